<?php
// The PHP application of the memory fault guide's section 6, leaking the way
// real ones do. Every response starts with "pid=<worker pid>".
//
//   ?do=connect&port=P&key=K   a persistent socket (pfsockopen) to a backend on
//       127.0.0.1:P, keyed per request (per tenant, in the real case): a key is
//       never reused, so when the backend closes its side the worker keeps the
//       socket in CLOSE_WAIT until the worker exits.
//   ?do=grow&mb=N&hold=FILE    a static cache grows by 1 MiB per step up to N
//       MiB, then the request holds it until FILE exists (the test's signal).
//       With an N above the cgroup's limit, the worker is OOM-killed. With
//       &go=FILE it starts growing only once FILE exists (a tracer attached);
//       &ms=M waits M ms per step instead of 20.

function connect_backend(int $port, string $key): string
{
	// The port is parsed with strtol, so "/KEY" only makes the persistent id unique.
	$s = pfsockopen("tcp://127.0.0.1:$port/$key", -1, $errno, $errstr, 10);
	if ($s === false)
		return "error=$errno $errstr";
	return "connected=$key";
}

function cache_fill(int $mb, string $hold, string $pidfile, string $go, int $ms): string
{
	static $cache = [];

	file_put_contents($pidfile, getmypid() . "\n");
	while ($go !== '' && !file_exists($go))
		usleep(50000);
	for ($i = 0; $i < $mb; $i++) {
		$cache[] = str_repeat(chr(65 + $i % 26), 1 << 20);
		usleep($ms * 1000);
	}
	file_put_contents($pidfile . ".full", count($cache) . "\n");
	while (!file_exists($hold))
		usleep(50000);
	return "cached_mb=" . count($cache);
}

header('Content-Type: text/plain');
$out = 'pid=' . getmypid() . ' ';
switch ($_GET['do'] ?? '') {
case 'connect':
	$out .= connect_backend((int)$_GET['port'], $_GET['key']);
	break;
case 'grow':
	$out .= cache_fill((int)$_GET['mb'], $_GET['hold'], $_GET['pidfile'], $_GET['go'] ?? '', (int)($_GET['ms'] ?? 20));
	break;
default:
	$out .= 'ok';
}
echo $out, "\n";
