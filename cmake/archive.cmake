# HDF5 archive module: the RAII layer over the HDF5 C API (h5.hpp) and the sweep archive.
# Included from the top-level CMakeLists.txt after Eigen3, MPI (CXX) and HDF5 are found and
# aesweep_core is defined. HDF5 is linked PUBLIC because h5.hpp (used by the analysis code to
# add groups to an archive) includes hdf5.h. Ranks take part through aesweep_dist's Communicator;
# the archive makes no MPI call (MPI-IO file access gets its MPI communicator from dist's
# mpi_io_handle, the one junction of the two modules).

if(NOT HDF5_FOUND)
  set(HDF5_PREFER_PARALLEL TRUE)
  find_package(HDF5 REQUIRED COMPONENTS C)
endif()
if(NOT HDF5_IS_PARALLEL)
  message(FATAL_ERROR "aesweep_archive needs the parallel (MPI) build of HDF5: install libhdf5-openmpi-dev")
endif()

set(_aesweep_archive_root "${CMAKE_CURRENT_LIST_DIR}/..")

add_library(aesweep_archive STATIC
  ${_aesweep_archive_root}/src/archive/h5.cpp
  ${_aesweep_archive_root}/src/archive/layout.cpp
  ${_aesweep_archive_root}/src/archive/sweep_archive.cpp
  ${_aesweep_archive_root}/src/archive/sweep_archive_reader.cpp)
target_include_directories(aesweep_archive PUBLIC ${_aesweep_archive_root}/include)
target_link_libraries(aesweep_archive PUBLIC aesweep_core aesweep_dist)

# CMake >= 3.19 defines HDF5::HDF5 (include dirs, definitions, libraries); older ones only
# set the variables.
if(TARGET HDF5::HDF5)
  target_link_libraries(aesweep_archive PUBLIC HDF5::HDF5)
else()
  target_include_directories(aesweep_archive SYSTEM PUBLIC ${HDF5_INCLUDE_DIRS} ${HDF5_C_INCLUDE_DIRS})
  target_compile_definitions(aesweep_archive PUBLIC ${HDF5_DEFINITIONS} ${HDF5_C_DEFINITIONS})
  target_link_libraries(aesweep_archive PUBLIC ${HDF5_LIBRARIES} ${HDF5_C_LIBRARIES})
endif()
