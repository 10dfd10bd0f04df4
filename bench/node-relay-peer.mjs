#!/usr/bin/env node
// The floor peer of the recorder benches: the least a Node process can do
// as a proxy. Each client connection gets its own target connection, and
// bytes are written on as they arrive, both ways: no HTTP parsing, nothing
// recorded. What it costs per exchange is what Node's sockets cost, on the
// same runtime the recorder runs on.
//
// Usage: node bench/node-relay-peer.mjs http://127.0.0.1:<target port>
// Prints "relaying http://127.0.0.1:<port>" once it listens.
import { connect, createServer } from 'node:net';

const target = new URL(process.argv[2]);
const server = createServer((client) => {
  client.setNoDelay(true);
  const up = connect(Number(target.port), target.hostname);
  up.setNoDelay(true);
  client.on('data', (chunk) => up.write(chunk));
  up.on('data', (chunk) => client.write(chunk));
  client.on('end', () => up.end());
  up.on('end', () => client.end());
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
  client.on('close', () => up.destroy());
  up.on('close', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(`relaying http://127.0.0.1:${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
