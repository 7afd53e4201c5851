package kit
var ru = en
