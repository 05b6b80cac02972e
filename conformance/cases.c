/* cases — the registry: every area's case table, in report order (PROTOCOL.md order). */
#include <stddef.h>

#include "conform.h"

const struct conf_case *const conf_case_tables[] = {
	conf_cases_http,     conf_cases_log,	    conf_cases_inv,	  conf_cases_ip,
	conf_cases_val,	     conf_cases_b64,	    conf_cases_room,	  conf_cases_room_post,
	conf_cases_status,   conf_cases_transcript, conf_cases_wait,	  conf_cases_listen,
	conf_cases_sse,	     conf_cases_ws,	    conf_cases_pres,	  conf_cases_dialogue,
	conf_cases_id,	     conf_cases_auth,	    conf_cases_sig,	  conf_cases_replay,
	conf_cases_dm,	     conf_cases_claim,	    conf_cases_ack,	  conf_cases_rl,
	conf_cases_cap,	     conf_cases_meta,	    conf_cases_met,	  conf_cases_rpt,
	conf_cases_ops,	     conf_cases_crypto,	    NULL,
};
