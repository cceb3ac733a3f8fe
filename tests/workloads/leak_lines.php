<?php
// Keeps strings made on one line of a function (not its first), called
// from a known line, while another function makes and frees as much; says
// the bytes it keeps, then holds them. PHP 7.4 and later, cli or fpm.
//
// cli: php leak_lines.php COUNT [GO [OUT]]
//   waits for the file GO (a tracer attached) if given, or for a writer
//   when GO is a FIFO, writes "kept N" to
//   OUT (default stdout), then kills itself with SIGKILL: PHP's shutdown
//   would free everything, a kill keeps it held at the exit.
// fpm: ?count=N&go=GO&out=OUT&hold=HOLD
//   the same, but the request holds the memory until the file HOLD exists.
// "jit=on|off" is added to the "kept" line: opcache's JIT was running.
// Bytes counted: each string's length plus zend_string's 24-byte header
// and NUL, 8-aligned, as Zend's allocator asks malloc for it
// (USE_ZEND_ALLOC=0).
const KEEP = 65536;

function churn(int $n): int
{
	$tmp = str_repeat('c', $n);
	return strlen($tmp);
}

function leak(array &$kept, int $i): int
{
	$size = KEEP + $i;
	$kept[] = str_repeat(chr(65 + $i % 26), $size); // the allocating line
	return ($size + 24 + 1 + 7) & ~7;
}

// A FIFO is read (its writer is the signal): a polling loop would be the
// first code opcache's JIT compiles, and change what it compiles next.
function wait_for_file(string $f): void
{
	if ($f !== '' && filetype($f) === 'fifo')
		file_get_contents($f);
	while ($f !== '' && !file_exists($f))
		usleep(20000);
}

function jit_on(): string
{
	$s = function_exists('opcache_get_status') ? opcache_get_status(false) : false;
	return ($s && !empty($s['jit']['on'])) ? 'on' : 'off';
}

function run(int $count, string $go, string $out, string $hold): void
{
	$kept = [];
	$total = 0;
	wait_for_file($go);
	for ($i = 0; $i < $count; $i++) {
		churn(KEEP);
		$total += leak($kept, $i); // the calling line
	}
	$line = "kept $total jit=" . jit_on() . "\n";
	if ($out === '')
		echo $line;
	else
		file_put_contents($out, $line);
	if (PHP_SAPI === 'cli')
		posix_kill(posix_getpid(), 9);
	wait_for_file($hold);
}

if (PHP_SAPI === 'cli')
	run((int)($argv[1] ?? 200), $argv[2] ?? '', $argv[3] ?? '', '');
else
	run((int)($_GET['count'] ?? 200), $_GET['go'] ?? '', $_GET['out'] ?? '', $_GET['hold'] ?? '');
