#pragma once
// Input corruption for denoising autoencoders (paper 002). The loss still compares the
// reconstruction with the clean input.
#include <Eigen/Core>

#include "aesweep/core/random.hpp"
#include "aesweep/core/train_options.hpp"

namespace aesweep {

// out = C(clean): gaussian adds N(0, level^2); masking zeroes each value with probability
// `level`; salt_pepper sets each value with probability `level` to 0 or 1 (equally likely);
// uniform adds U(-level, level). No clipping, as in Keras's noise layers. out may not alias clean.
void corrupt(const NoiseOptions& noise, const Eigen::Ref<const Eigen::MatrixXf>& clean,
             Eigen::Ref<Eigen::MatrixXf> out, Rng& rng);

}  // namespace aesweep
