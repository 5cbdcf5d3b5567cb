/* The kernel table of one instruction set; included last by each isa_*.c (after quantize.h, gemm.h and layers.h). */
const pc_kernels PC_FN(pc_kernels) = {
  PC_STR(PC_ISA),
  PC_FN(pc_quantize_grid),
  PC_FN(pc_quantize_posit),
  PC_FN(pc_quantize_blocks),
  PC_FN(pc_gemm_workspace),
  PC_FN(pc_gemm),
  PC_FN(pc_sgd),
  PC_FN(pc_adam),
  PC_FN(pc_im2col),
  PC_FN(pc_col2im),
  PC_FN(pc_swap01),
  PC_FN(pc_max_pool),
  PC_FN(pc_max_pool_backward),
  PC_FN(pc_avg_pool),
  PC_FN(pc_avg_pool_backward),
  PC_FN(pc_accumulate),
};
