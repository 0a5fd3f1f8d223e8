/* Entry points of the subcommands; each lives in its own user/cmd_*.c. */
#ifndef NETPROF_COMMANDS_H
#define NETPROF_COMMANDS_H

int cmd_check(int argc, char **argv);
int cmd_cleanup(int argc, char **argv);

#endif
