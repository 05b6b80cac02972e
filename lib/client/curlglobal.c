#include "client/curlglobal.h"

#include <curl/curl.h>
#include <pthread.h>

static pthread_once_t curlglobal_once = PTHREAD_ONCE_INIT;
static CURLcode curlglobal_rc = CURLE_FAILED_INIT; /* written once, under curlglobal_once */

static void curlglobal_do_init(void)
{
	curlglobal_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int curlglobal_init(void)
{
	pthread_once(&curlglobal_once, curlglobal_do_init);
	return curlglobal_rc == CURLE_OK ? 0 : -1;
}
