/* scenarios — the sealroom-soak subcommands. Each takes the argv of its subcommand (argv[0]
 * is the subcommand's name), runs to completion and returns the process exit status:
 * SOAK_EXIT_OK, SOAK_EXIT_FAIL (exact counts missed, or the run could not happen) or
 * SOAK_EXIT_USAGE. All of them block for the length of the run.
 */
#ifndef SEALROOM_SOAK_SCENARIOS_H
#define SEALROOM_SOAK_SCENARIOS_H

int sc_rooms(int argc, char **argv);
int sc_fanout(int argc, char **argv);
int sc_dialogue(int argc, char **argv);
int sc_rtt(int argc, char **argv);
int sc_dm(int argc, char **argv);
int sc_connections(int argc, char **argv);
int sc_soak(int argc, char **argv);
int sc_post(int argc, char **argv);
int sc_compare(int argc, char **argv);
int sc_bundle(int argc, char **argv);
int sc_check(int argc, char **argv);

#endif
