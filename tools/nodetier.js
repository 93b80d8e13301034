// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
//
// Two tiers of node's own HTTP server on its event loop, for the tests:
//   node nodetier.js back PORT
//   node nodetier.js front PORT BACKPORT CALLS
// The front answers each request after CALLS sequential GETs to the back
// (kept-alive connections). Each prints "ready" once listening and, on
// SIGTERM, {"served": N} (requests answered) before it exits.
'use strict';
const http = require('http');
const [mode, port, backPort, calls] = process.argv.slice(2);
let served = 0;
let server;

if (mode === 'back') {
	server = http.createServer((req, res) => {
		req.resume();
		req.on('end', () => { served++; res.end('ok\n'); });
	});
} else if (mode === 'front' && +calls >= 1) {
	const agent = new http.Agent({ keepAlive: true });
	const call = (left, done) => {
		http.get({ host: '127.0.0.1', port: +backPort, path: '/', agent }, (r) => {
			r.resume();
			r.on('end', () => (left > 1 ? call(left - 1, done) : done()));
		});
	};
	server = http.createServer((req, res) => {
		req.resume();
		req.on('end', () => call(+calls, () => { served++; res.end('done\n'); }));
	});
} else {
	process.stderr.write('usage: nodetier.js back PORT | front PORT BACKPORT CALLS\n');
	process.exit(2);
}
server.keepAliveTimeout = 60000;
server.listen(+port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
	process.stdout.write(JSON.stringify({ served }) + '\n');
	process.exit(0);
});
