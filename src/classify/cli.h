/* SPDX-License-Identifier: BSD-2-Clause */
/* `ringwall classify`: ClassBench rules and traces through the classifier. */
#ifndef RW_CLASSIFY_CLI_H
#define RW_CLASSIFY_CLI_H

/* argv[0] is "classify". Returns the process exit status. */
int rw_cmd_classify(int argc, char **argv);

#endif
