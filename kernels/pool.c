#include "pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#define PC_MAX_THREADS 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_t workers[PC_MAX_THREADS];
static int n_workers = 0;        /* threads besides the caller */
static unsigned long generation = 0;
static pc_task_fn job_fn;
static void *job_ctx;
static size_t job_tasks;
static atomic_size_t next_task;
static int busy = 0;             /* workers still inside the current job */
static int quitting = 0;

static void drain(void) {
  for (;;) {
    size_t t = atomic_fetch_add(&next_task, 1);
    if (t >= job_tasks) return;
    job_fn(job_ctx, t);
  }
}

static unsigned long start_generation[PC_MAX_THREADS];

static void *worker_main(void *arg) {
  /* A worker joins the jobs that start after it: starting from 0 would make it run (and count itself
   * out of) a generation it was never counted into, letting a later job return before its tasks end. */
  unsigned long seen = *(const unsigned long *)arg;
  pthread_mutex_lock(&lock);
  for (;;) {
    while (generation == seen && !quitting) pthread_cond_wait(&wake, &lock);
    if (quitting) break;
    seen = generation;
    pthread_mutex_unlock(&lock);
    drain();
    pthread_mutex_lock(&lock);
    if (--busy == 0) pthread_cond_signal(&done);
  }
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void stop_all(void) {
  pthread_mutex_lock(&lock);
  quitting = 1;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < n_workers; i++) pthread_join(workers[i], NULL);
  quitting = 0;
  n_workers = 0;
}

int pc_pool_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > PC_MAX_THREADS) n = PC_MAX_THREADS;
  if (n - 1 == n_workers) return n;
  stop_all();
  for (int i = 0; i < n - 1; i++) {
    start_generation[i] = generation;
    if (pthread_create(&workers[i], NULL, worker_main, &start_generation[i]) != 0) break;
    n_workers++;
  }
  return n_workers + 1;
}

int pc_pool_threads(void) { return n_workers + 1; }

void pc_pool_run(pc_task_fn fn, void *ctx, size_t tasks) {
  if (n_workers == 0 || tasks <= 1) {
    for (size_t t = 0; t < tasks; t++) fn(ctx, t);
    return;
  }
  pthread_mutex_lock(&lock);
  job_fn = fn;
  job_ctx = ctx;
  job_tasks = tasks;
  atomic_store(&next_task, 0);
  busy = n_workers;
  generation++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  drain();
  pthread_mutex_lock(&lock);
  while (busy > 0) pthread_cond_wait(&done, &lock);
  pthread_mutex_unlock(&lock);
}
