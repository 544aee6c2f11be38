#!/usr/bin/env node
// Run as ./shebang.js: the probes must go into node, the interpreter.
let n = 0;
const t = setInterval(() => { if (++n === 10) { clearInterval(t); console.log("shebang", n); } }, 2);
