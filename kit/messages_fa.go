package kit
var fa = en
