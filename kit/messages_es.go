package kit
var es = en
