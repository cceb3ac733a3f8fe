'use strict';
// A Node.js service that leaks the way real ones do: every request adds a
// 256 KiB Buffer (filled, so it is resident) to a cache that is never trimmed, and opens an upstream
// connection with allowHalfOpen that nobody ends or destroys (when the
// upstream hangs up, the socket sits in CLOSE_WAIT). One request per
// connection: a line in, "ok CACHED UPSTREAMS" out.
//
// Usage: node leaky_service.js PORT_FILE BACKEND_PORT
const fs = require('fs');
const net = require('net');

const CHUNK = 256 * 1024;
const [portFile, backendPort] = process.argv.slice(2);
const cache = [];
const upstreams = [];

function handleRequest(conn) {
	cache.push(Buffer.alloc(CHUNK, 'payload'));
	const up = net.connect({ host: '127.0.0.1', port: Number(backendPort), allowHalfOpen: true });
	up.on('error', () => {});
	upstreams.push(up);
	conn.end(`ok ${cache.length} ${upstreams.length}\n`);
}

const server = net.createServer((conn) => conn.once('data', () => handleRequest(conn)));
server.listen(0, '127.0.0.1', () => {
	// Renamed into place so a reader never sees half a line.
	fs.writeFileSync(`${portFile}.tmp`, `${server.address().port}\n`);
	fs.renameSync(`${portFile}.tmp`, portFile);
});
