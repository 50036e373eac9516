/*
 * fcgi-hello: the control of the REST benchmark. A FastCGI responder that
 * does nothing but answer every request with the bytes of the file named
 * by BENCH_BODY as application/json: what lighttpd's FastCGI path costs on
 * this machine with no work behind it, the ceiling for any FastCGI API.
 */
#include <stdio.h>
#include <stdlib.h>

#include <fcgiapp.h>

int
main(void)
{
	static char body[65536];
	const char *path = getenv("BENCH_BODY");
	FCGX_Request req;
	FILE *f;
	size_t n = 0;

	if (path == NULL || (f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "fcgi-hello: BENCH_BODY must name a readable file\n");
		return 1;
	}
	n = fread(body, 1, sizeof(body) - 1, f);
	fclose(f);
	if (FCGX_Init() != 0 || FCGX_InitRequest(&req, 0, 0) != 0)
		return 1;
	while (FCGX_Accept_r(&req) >= 0) {
		FCGX_FPrintF(req.out, "Status: 200 OK\r\nContent-Type: "
		    "application/json\r\nCache-Control: no-store\r\n\r\n");
		FCGX_PutStr(body, (int)n, req.out);
		FCGX_Finish_r(&req);
	}
	return 0;
}
