#include <stdio.h>
#include <time.h>

#include "clock.h"

int64_t
clock_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
clock_format(int64_t ms, char *out, size_t outsz)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	int n;

	if (outsz == 0)
		return out;
	out[0] = '\0';
	if (ms < 0 || gmtime_r(&secs, &tm) == NULL)
		return out;
	n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	if (n < 0 || (size_t)n >= outsz)
		out[0] = '\0';
	return out;
}
