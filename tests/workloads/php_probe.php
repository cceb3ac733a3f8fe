<?php
// A known PHP stack for scripts/php-offsets: {main} -> Probe::run() ->
// Probe::wait(), blocked on stdin. Prints "waiting" when it is there.
class Probe
{
	public function wait(): string
	{
		echo "waiting\n";
		return (string)fgets(STDIN);
	}

	public function run(): string
	{
		return $this->wait();
	}
}
(new Probe())->run();
