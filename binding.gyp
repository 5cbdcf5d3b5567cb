{
  "targets": [
    {
      "target_name": "precis",
      "sources": [
        "kernels/addon.c",
        "kernels/pool.c",
        "kernels/isa_sse2.c",
        "kernels/isa_avx2.c",
        "kernels/isa_avx512.c"
      ],
      "cflags": ["-O3", "-std=c11", "-ffp-contract=off", "-fno-math-errno", "-Wall", "-Wextra", "-Wno-unused-function", "-pthread"],
      "cflags!": ["-O2", "-O0", "-fno-omit-frame-pointer"],
      "ldflags": ["-pthread"],
      "defines": ["_GNU_SOURCE"]
    }
  ]
}
