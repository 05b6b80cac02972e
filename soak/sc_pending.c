/* Temporary: scenarios not written yet. */
#include "scenarios.h"
int sc_dialogue(int argc, char **argv) { return 1; }
int sc_rtt(int argc, char **argv) { return 1; }
int sc_dm(int argc, char **argv) { return 1; }
int sc_connections(int argc, char **argv) { return 1; }
int sc_soak(int argc, char **argv) { return 1; }
int sc_compare(int argc, char **argv) { return 1; }
