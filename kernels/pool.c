#include "pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define PC_RELAX() _mm_pause()
#else
#define PC_RELAX() ((void)0)
#endif

#define PC_MAX_THREADS 256

/*
 * Waking a sleeping thread (a futex) costs tens of microseconds on a shared
 * VM, as much as a small kernel's whole work, and the training loop runs
 * jobs back to back (a GEMM's packing pass, then its compute pass, per k
 * block). So a worker that finishes a job, and the caller waiting for one,
 * spin for a while (PC_SPIN_NS, by the clock: a pause instruction lasts
 * anywhere from 10 to 150 cycles) before they sleep: back-to-back jobs then
 * start and end without a system call, and an idle pool costs nothing.
 */
#define PC_SPIN_NS 30000

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Spins while pending() holds, for at most PC_SPIN_NS; returns whether it still holds. */
static int spin_while(int (*pending)(const void *), const void *arg) {
  if (!pending(arg)) return 0;
  const long long end = now_ns() + PC_SPIN_NS;
  for (;;) {
    for (int i = 0; i < 64; i++) {
      PC_RELAX();
      if (!pending(arg)) return 0;
    }
    if (now_ns() > end) return 1;
  }
}

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_t workers[PC_MAX_THREADS];
static int n_workers = 0;        /* threads besides the caller */
static atomic_ulong generation;  /* bumped (under lock) once per job, after the job is set up */
static pc_task_fn job_fn;
static void *job_ctx;
static size_t job_tasks;
static atomic_size_t next_task;
static atomic_int busy;          /* workers still inside the current job */
static atomic_int quitting;
static int sleepers = 0;         /* workers waiting on `wake` (under lock) */
static int caller_waiting = 0;   /* the caller waits on `done` (under lock) */

static void drain(void) {
  for (;;) {
    size_t t = atomic_fetch_add(&next_task, 1);
    if (t >= job_tasks) return;
    job_fn(job_ctx, t);
  }
}

static unsigned long start_generation[PC_MAX_THREADS];

static int no_new_job(const void *seen) {
  return atomic_load_explicit(&generation, memory_order_acquire) == *(const unsigned long *)seen &&
         !atomic_load_explicit(&quitting, memory_order_relaxed);
}

static int workers_busy(const void *unused) {
  (void)unused;
  return atomic_load_explicit(&busy, memory_order_acquire) > 0;
}

/* The generation after `seen`, once the caller publishes it: spinning first, then asleep. */
static unsigned long next_generation(unsigned long seen) {
  unsigned long g;
  if (!spin_while(no_new_job, &seen)) return atomic_load_explicit(&generation, memory_order_acquire);
  /* the caller bumps the generation and checks `sleepers` under the lock, so this cannot miss a job */
  pthread_mutex_lock(&lock);
  sleepers++;
  while ((g = atomic_load_explicit(&generation, memory_order_acquire)) == seen && !atomic_load(&quitting))
    pthread_cond_wait(&wake, &lock);
  sleepers--;
  pthread_mutex_unlock(&lock);
  return g;
}

static void *worker_main(void *arg) {
  /* A worker joins the jobs that start after it: starting from 0 would make it run (and count itself
   * out of) a generation it was never counted into, letting a later job return before its tasks end. */
  unsigned long seen = *(const unsigned long *)arg;
  for (;;) {
    const unsigned long g = next_generation(seen);
    if (atomic_load(&quitting)) break;
    seen = g;
    drain();
    if (atomic_fetch_sub_explicit(&busy, 1, memory_order_acq_rel) == 1) {
      pthread_mutex_lock(&lock);
      if (caller_waiting) pthread_cond_signal(&done);
      pthread_mutex_unlock(&lock);
    }
  }
  return NULL;
}

static void stop_all(void) {
  pthread_mutex_lock(&lock);
  atomic_store(&quitting, 1);
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  for (int i = 0; i < n_workers; i++) pthread_join(workers[i], NULL);
  atomic_store(&quitting, 0);
  n_workers = 0;
}

int pc_pool_set_threads(int n) {
  if (n < 1) n = 1;
  if (n > PC_MAX_THREADS) n = PC_MAX_THREADS;
  if (n - 1 == n_workers) return n;
  stop_all();
  for (int i = 0; i < n - 1; i++) {
    start_generation[i] = atomic_load(&generation);
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
  job_fn = fn;
  job_ctx = ctx;
  job_tasks = tasks;
  atomic_store(&next_task, 0);
  atomic_store(&busy, n_workers);
  pthread_mutex_lock(&lock);
  atomic_fetch_add_explicit(&generation, 1, memory_order_release);
  if (sleepers) pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  drain();
  if (spin_while(workers_busy, NULL)) {
    pthread_mutex_lock(&lock);
    caller_waiting = 1;
    while (atomic_load_explicit(&busy, memory_order_acquire) > 0) pthread_cond_wait(&done, &lock);
    caller_waiting = 0;
    pthread_mutex_unlock(&lock);
  }
}
