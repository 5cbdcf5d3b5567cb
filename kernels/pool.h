/* A persistent thread pool: workers start once and wait for jobs, so a
 * parallel kernel costs a wake-up, not a thread creation. */
#ifndef PRECIS_POOL_H
#define PRECIS_POOL_H
#include <stddef.h>

typedef void (*pc_task_fn)(void *ctx, size_t task);

/* Sets the number of threads (1 = run on the caller only); returns the number in use. */
int pc_pool_set_threads(int n);
int pc_pool_threads(void);
/* Runs fn(ctx, 0 .. tasks-1) across the pool and the caller; returns when all are done. */
void pc_pool_run(pc_task_fn fn, void *ctx, size_t tasks);

#endif
