#include "aesweep/core/corruption.hpp"

namespace aesweep {

void corrupt(const NoiseOptions& noise, const Eigen::Ref<const Eigen::MatrixXf>& clean,
             Eigen::Ref<Eigen::MatrixXf> out, Rng& rng) {
  const float level = float(noise.level);
  for (Eigen::Index c = 0; c < clean.cols(); ++c) {
    const float* in = clean.col(c).data();
    float* o = out.col(c).data();
    const Eigen::Index n = clean.rows();
    switch (noise.kind) {
      case NoiseKind::none:
        for (Eigen::Index i = 0; i < n; ++i) o[i] = in[i];
        break;
      case NoiseKind::gaussian:
        for (Eigen::Index i = 0; i < n; ++i) o[i] = in[i] + level * float(rng.normal());
        break;
      case NoiseKind::masking:
        for (Eigen::Index i = 0; i < n; ++i) o[i] = rng.uniform_float() < level ? 0.0f : in[i];
        break;
      case NoiseKind::salt_pepper:
        for (Eigen::Index i = 0; i < n; ++i) {
          const float u = rng.uniform_float();
          o[i] = u < level ? (u < 0.5f * level ? 0.0f : 1.0f) : in[i];
        }
        break;
      case NoiseKind::uniform:
        for (Eigen::Index i = 0; i < n; ++i) o[i] = in[i] + level * (2.0f * rng.uniform_float() - 1.0f);
        break;
    }
  }
}

}  // namespace aesweep
