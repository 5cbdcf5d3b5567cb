#include "pool.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
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
 * A job is `tasks` calls fn(ctx, t). Whoever claims a task runs it: the
 * caller claims tasks too, and the job is over when every task has run, not
 * when every worker has looked in, so a worker the OS has not scheduled
 * (another process busy on the cores) never holds the caller up unless it is
 * inside a task.
 *
 * Tasks are claimed from one 64-bit ticket: the job's generation (high 32
 * bits), its task count (16 bits) and the next task (16 bits). A claim is a
 * compare-and-swap that also checks the generation, so a worker that looks
 * in late can never take a task of a later job for one of an earlier job;
 * and the caller publishes a new job only once every claimed task has run,
 * so the job's fn and ctx are stable while anyone holds one of its tasks.
 *
 * Waking a sleeping thread (a futex) costs tens of microseconds on a shared
 * VM, as much as a small kernel's whole work, and the training loop runs
 * jobs back to back (a GEMM's packing pass, then its compute pass, per k
 * block). So a worker between jobs, and the caller waiting for its job's
 * last tasks, spin for a while (PC_SPIN_NS, by the clock) before they sleep:
 * back-to-back jobs then start and end without a system call, and an idle
 * pool costs nothing.
 */
#define PC_SPIN_NS 30000
#define PC_MAX_TASKS 0xffffu

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
static pthread_t workers[PC_MAX_THREADS];
static int n_workers = 0;            /* threads besides the caller */
static _Atomic uint64_t ticket;      /* generation << 32 | tasks << 16 | next task */
static pc_task_fn job_fn;
static void *job_ctx;
static atomic_size_t finished;       /* tasks of the current job that have run */
static atomic_int quitting;
static int sleepers = 0;             /* workers waiting on `wake` (under lock) */
static int caller_waiting = 0;       /* the caller waits on `done` (under lock) */

static inline uint32_t generation_of(uint64_t t) { return (uint32_t)(t >> 32); }

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

/* Runs tasks of generation `gen` until none is left to claim; each one run is counted in `finished`. */
static void work_on(uint32_t gen) {
  uint64_t t = atomic_load_explicit(&ticket, memory_order_acquire);
  for (;;) {
    if (generation_of(t) != gen) return;
    const uint32_t next = (uint32_t)(t & 0xffffu), tasks = (uint32_t)((t >> 16) & 0xffffu);
    if (next >= tasks) return;
    if (!atomic_compare_exchange_weak_explicit(&ticket, &t, t + 1, memory_order_acq_rel, memory_order_acquire)) continue;
    job_fn(job_ctx, next);
    if (atomic_fetch_add_explicit(&finished, 1, memory_order_acq_rel) + 1 == tasks) {
      pthread_mutex_lock(&lock);
      if (caller_waiting) pthread_cond_signal(&done);
      pthread_mutex_unlock(&lock);
    }
    t = atomic_load_explicit(&ticket, memory_order_acquire);
  }
}

static int no_new_job(const void *seen) {
  return generation_of(atomic_load_explicit(&ticket, memory_order_acquire)) == *(const uint32_t *)seen &&
         !atomic_load_explicit(&quitting, memory_order_relaxed);
}

static int tasks_running(const void *tasks) {
  return atomic_load_explicit(&finished, memory_order_acquire) < *(const size_t *)tasks;
}

/* The generation after `seen`, once the caller publishes it: spinning first, then asleep. */
static uint32_t next_generation(uint32_t seen) {
  uint32_t g;
  if (!spin_while(no_new_job, &seen)) return generation_of(atomic_load_explicit(&ticket, memory_order_acquire));
  /* the caller publishes a job and checks `sleepers` under the lock, so this cannot miss one */
  pthread_mutex_lock(&lock);
  sleepers++;
  while ((g = generation_of(atomic_load_explicit(&ticket, memory_order_acquire))) == seen && !atomic_load(&quitting))
    pthread_cond_wait(&wake, &lock);
  sleepers--;
  pthread_mutex_unlock(&lock);
  return g;
}

static uint32_t start_generation[PC_MAX_THREADS];

static void *worker_main(void *arg) {
  uint32_t seen = *(const uint32_t *)arg;
  for (;;) {
    seen = next_generation(seen);
    if (atomic_load(&quitting)) break;
    work_on(seen);
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
    start_generation[i] = generation_of(atomic_load(&ticket));
    if (pthread_create(&workers[i], NULL, worker_main, &start_generation[i]) != 0) break;
    n_workers++;
  }
  return n_workers + 1;
}

int pc_pool_threads(void) { return n_workers + 1; }

void pc_pool_run(pc_task_fn fn, void *ctx, size_t tasks) {
  if (n_workers == 0 || tasks <= 1 || tasks > PC_MAX_TASKS) {
    for (size_t t = 0; t < tasks; t++) fn(ctx, t);
    return;
  }
  job_fn = fn;
  job_ctx = ctx;
  atomic_store_explicit(&finished, 0, memory_order_relaxed);
  const uint32_t gen = generation_of(atomic_load_explicit(&ticket, memory_order_relaxed)) + 1;
  pthread_mutex_lock(&lock);
  atomic_store_explicit(&ticket, (uint64_t)gen << 32 | (uint64_t)tasks << 16, memory_order_release);
  if (sleepers) pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);
  work_on(gen);
  if (spin_while(tasks_running, &tasks)) {
    pthread_mutex_lock(&lock);
    caller_waiting = 1;
    while (atomic_load_explicit(&finished, memory_order_acquire) < tasks) pthread_cond_wait(&done, &lock);
    caller_waiting = 0;
    pthread_mutex_unlock(&lock);
  }
}
