// im2col / col2im: the layout change that turns a 2-D convolution into one GEMM.
// One image [C, H, W] becomes the matrix col [C*KH*KW, OH*OW] whose column p holds
// the receptive field of output pixel p, so that y = W [OC, C*KH*KW] . col. The
// kernels work on one image: callers parallelise over images (nn/conv.cpp) and keep
// each image's col in a per-thread, cache-resident buffer.
#pragma once

#include <cstdint>

namespace tg::kernels {

/// Geometry of a 2-D convolution or pooling window over one image plane.
struct ConvGeometry {
  int64_t channels = 1, height = 1, width = 1;  ///< of the input image
  int64_t kernel_h = 1, kernel_w = 1;
  int64_t stride_h = 1, stride_w = 1;
  int64_t pad_h = 0, pad_w = 0;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t out_h = 1, out_w = 1;  ///< set by with_output_size()

  /// This geometry with out_h/out_w computed: floor((H + 2p - d(k-1) - 1) / s) + 1.
  ConvGeometry with_output_size() const;
  int64_t col_rows() const { return channels * kernel_h * kernel_w; }  ///< K of the GEMM
  int64_t col_cols() const { return out_h * out_w; }                   ///< N of the GEMM
  /// True when col equals the image itself (1x1 kernel, stride 1, no padding): no copy needed.
  bool is_identity() const {
    return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_h == 0 &&
           pad_w == 0;
  }
};

/// col [C*KH*KW, OH*OW] = the receptive fields of image x [C, H, W]; zero where padded.
/// float64 for precise gradient checks (AVX-512's masked copies are float32's only).
void im2col(const float* x, const ConvGeometry& g, float* col);
void im2col(const double* x, const ConvGeometry& g, double* col);

/// dx [C, H, W] += the sum of col's entries back at the pixels they were copied from.
void col2im(const float* col, const ConvGeometry& g, float* dx);
void col2im(const double* col, const ConvGeometry& g, double* dx);

}  // namespace tg::kernels
