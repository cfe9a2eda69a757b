// A Socket.IO peer: holds idle sockets on the websocket transport (engine.io pings every 25 s).
// Usage: node socketio-server.js PORT
'use strict';
const http = require('http');
const { Server } = require('socket.io');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => res.end('ok')); // /healthz
const io = new Server(server, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
io.on('connection', () => {});
server.listen(port, '127.0.0.1', () => console.log(`socket.io peer on ${port}`));
