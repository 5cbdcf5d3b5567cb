/* The kernel table of one instruction set; included last by each isa_*.c (after quantize.h and gemm.h). */
const pc_kernels PC_FN(pc_kernels) = {
  PC_STR(PC_ISA),
  PC_FN(pc_quantize_grid),
  PC_FN(pc_quantize_posit),
  PC_FN(pc_quantize_blocks),
  PC_FN(pc_gemm_workspace),
  PC_FN(pc_gemm),
};
