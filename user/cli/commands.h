/* Entry points of the subcommands; each lives in its own cli/cmd_*.c. */
#ifndef NETPROF_COMMANDS_H
#define NETPROF_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);
int cmd_topo(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_categorize(int argc, char **argv);
int cmd_proxy(int argc, char **argv);
int cmd_flame(int argc, char **argv);

#endif
