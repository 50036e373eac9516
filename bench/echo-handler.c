/*
 * echo-handler: the bare handler bench/ws-run puts behind websocketd to
 * know what websocketd itself can carry on this machine. websocketd in
 * line mode turns each text frame into a line on standard input and each
 * line on standard output into a text frame; this writes every line back
 * as it came and flushes at once, so nothing waits in a buffer and the
 * figure is websocketd's, not stdio's.
 */
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	while ((n = getline(&line, &cap, stdin)) != -1) {
		if (fwrite(line, 1, (size_t)n, stdout) != (size_t)n ||
		    fflush(stdout) == EOF) {
			rc = 1;	/* websocketd closed the connection */
			goto out;
		}
	}
out:
	free(line);
	return rc;
}
