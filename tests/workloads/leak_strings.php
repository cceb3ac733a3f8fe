<?php
// Keeps COUNT strings of BYTES bytes from leak_cache() in a global array,
// then exits; PHP's shutdown frees Zend MM's memory before the exit.
// usage: php leak_strings.php COUNT BYTES [-w]
//   -w: wait for a line on stdin before starting (attach a tracer first)
$cache = [];
if (($argv[3] ?? '') === '-w')
	fgets(STDIN);
function leak_cache(array &$cache, int $i, int $bytes): void
{
	$cache[] = str_repeat(chr(65 + $i % 26), $bytes);
}
for ($i = 0; $i < (int)$argv[1]; $i++)
	leak_cache($cache, $i, (int)$argv[2]);
echo "leaked\n";
