#pragma once
// The Pareto front of a study: the runs no other run beats on both reconstruction error and latent
// density (lower is better on each, lower density = sparser codes). Paper 000 studies exactly this
// trade-off; the archive marks the front in /summary (pareto_front, pareto_front_section) and
// `aesweep status` and the report compute it the same way.
#include <cstddef>
#include <span>
#include <vector>

namespace aesweep {

// Which points are on the front when both coordinates are minimised. A point is on it when no
// other point is at most as large on both coordinates and smaller on one. So:
//   - ties: of two points with the same error, only the one with the lower density can be on it
//     (and the same the other way round);
//   - duplicates: identical points do not dominate each other, so all copies of a front point are
//     on it;
//   - a point with a NaN or infinite coordinate (a diverged run) is never on it and never hides
//     another point; neither is a point whose `eligible` entry is false (an empty vector: every
//     point is eligible).
// O(n log n); the answer does not depend on the order of the points. Sizes must agree (else
// std::invalid_argument).
[[nodiscard]] std::vector<bool> pareto_front(std::span<const double> error, std::span<const double> density,
                                             const std::vector<bool>& eligible = {});

// The front within each group of points (a group: indices into the points, e.g. a sweep section's
// runs; a point may sit in several groups): true where the point is on the front of at least one
// group that lists it. Indices outside the points are refused (std::out_of_range).
[[nodiscard]] std::vector<bool> pareto_front_of_groups(std::span<const double> error, std::span<const double> density,
                                                       const std::vector<bool>& eligible,
                                                       const std::vector<std::vector<std::size_t>>& groups);

}  // namespace aesweep
