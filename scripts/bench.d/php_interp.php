<?php
// One php-fpm request of the interpreter-walk benchmark (scripts/bench --php):
// for SECS seconds, OP in a loop three PHP calls deep, then "ops/s".
//   op=map:  a 3 MiB string made and dropped (above Zend MM's 2 MiB chunks: a
//            huge block, mapped and unmapped each time:
//            a memleak-trace record, with the PHP walk, per op)
//   op=sock: a TCP connection to PORT made and closed (a sockleak record)
function op_map() { $s = str_repeat('x', 3 << 20); return strlen($s); }
function op_sock(int $port) { $f = fsockopen('127.0.0.1', $port); if ($f) fclose($f); return 1; }
function one(string $op, int $port) { return $op === 'map' ? op_map() : op_sock($port); }
function loop(string $op, int $port, float $secs)
{
	$n = 0;
	$t0 = microtime(true);
	while (($t = microtime(true)) - $t0 < $secs) {
		for ($i = 0; $i < 100; $i++)
			one($op, $port);
		$n += 100;
	}
	return $n / ($t - $t0);
}
header('Content-Type: text/plain');
printf("%.0f\n", loop($_GET['op'] ?? 'map', (int)($_GET['port'] ?? 0), (float)($_GET['secs'] ?? 2)));
