// A CommonJS app, as most users of koa-generic-session have: require() gives the callable factory.
const session = require('koa-session-machine');
module.exports = { session, MemoryStore: session.MemoryStore, isFunction: typeof session === 'function' };
