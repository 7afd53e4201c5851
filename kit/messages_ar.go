package kit
var ar = en
