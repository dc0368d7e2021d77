#include "aesweep/archive/pareto.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <string>

namespace aesweep {

std::vector<bool> pareto_front(std::span<const double> error, std::span<const double> density,
                               const std::vector<bool>& eligible) {
  const std::size_t n = error.size();
  if (density.size() != n || (!eligible.empty() && eligible.size() != n))
    throw std::invalid_argument("pareto_front: " + std::to_string(n) + " errors, " + std::to_string(density.size()) +
                                " densities and " + std::to_string(eligible.size()) + " eligibility flags");
  std::vector<std::size_t> order;
  order.reserve(n);
  for (std::size_t i = 0; i < n; ++i)
    if ((eligible.empty() || eligible[i]) && std::isfinite(error[i]) && std::isfinite(density[i])) order.push_back(i);
  // Lowest error first, then lowest density: a point is dominated exactly when an earlier point has
  // a lower density, or the same density with a lower error.
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (error[a] != error[b]) return error[a] < error[b];
    if (density[a] != density[b]) return density[a] < density[b];
    return a < b;
  });
  std::vector<bool> front(n, false);
  double best_density = std::numeric_limits<double>::infinity();
  double best_error = std::numeric_limits<double>::infinity();  // the error of the point that set best_density
  for (const std::size_t i : order) {  // densities here are finite, so the first point always enters
    if (density[i] < best_density) {
      front[i] = true;
      best_density = density[i];
      best_error = error[i];
    } else if (density[i] == best_density && error[i] == best_error) {
      front[i] = true;  // a duplicate of a front point
    }
  }
  return front;
}

std::vector<bool> pareto_front_of_groups(std::span<const double> error, std::span<const double> density,
                                         const std::vector<bool>& eligible,
                                         const std::vector<std::vector<std::size_t>>& groups) {
  const std::size_t n = error.size();
  if (density.size() != n || (!eligible.empty() && eligible.size() != n))
    throw std::invalid_argument("pareto_front_of_groups: " + std::to_string(n) + " errors, " +
                                std::to_string(density.size()) + " densities and " + std::to_string(eligible.size()) +
                                " eligibility flags");
  std::vector<bool> front(n, false);
  std::vector<double> e, d;
  std::vector<bool> ok;
  for (const auto& group : groups) {
    e.clear();
    d.clear();
    ok.clear();
    for (const std::size_t i : group) {
      if (i >= n)
        throw std::out_of_range("pareto_front_of_groups: index " + std::to_string(i) + " of " + std::to_string(n) +
                                " points");
      e.push_back(error[i]);
      d.push_back(density[i]);
      ok.push_back(eligible.empty() || eligible[i]);
    }
    const std::vector<bool> local = pareto_front(e, d, ok);
    for (std::size_t k = 0; k < group.size(); ++k)
      if (local[k]) front[group[k]] = true;
  }
  return front;
}

}  // namespace aesweep
