// A Node `ws` peer: holds idle sockets, and broadcasts whatever is POSTed to /broadcast to every
// socket (the frame is sent as is, serialised once, like a hub fanning one event out).
// Usage: node ws-server.js PORT
'use strict';
const http = require('http');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2]);
const server = http.createServer((req, res) => {
  if (req.method === 'POST' && req.url === '/broadcast') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const frame = Buffer.concat(chunks).toString('utf8');
      for (const client of wss.clients) {
        if (client.readyState === WebSocket.OPEN) client.send(frame);
      }
      res.end('ok');
    });
    return;
  }
  res.end('ok'); // /healthz and anything else
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
server.listen(port, '127.0.0.1', () => console.log(`ws peer on ${port}`));
