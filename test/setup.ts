import '../util/polyfill.js';
