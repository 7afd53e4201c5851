package kit
var fr = en
