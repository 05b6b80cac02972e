/* curlglobal — one-time libcurl global initialisation for the client modules. */
#ifndef SEALROOM_CLIENT_CURLGLOBAL_H
#define SEALROOM_CLIENT_CURLGLOBAL_H

/* Run curl_global_init once per process (pthread_once, so any thread may call it first).
 * Returns 0, or -1 if libcurl failed to initialise. Never blocks on the network. The
 * matching cleanup is left to process exit. */
int curlglobal_init(void);

#endif
