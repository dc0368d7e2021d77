# Tests of the HDF5 archive module. Included from the top level (or tests/) after
# enable_testing(), with GTest, MPI and cmake/archive.cmake available.
#   archive_h5_test, archive_layout_test, archive_sweep_test: one process (MPI singleton).
#   archive_mpi_test: run by mpiexec on 1, 2 and 3 ranks.
#   archive_crash_writer: helper the crash test starts and SIGKILLs; not a test itself.

if(NOT TARGET GTest::gtest)
  find_package(GTest REQUIRED)
endif()
find_program(AESWEEP_H5DUMP h5dump)
# The system python3 is the one with h5py (Debian python3-h5py); a test skips if it lacks h5py.
find_program(AESWEEP_PYTHON3 NAMES python3 PATHS /usr/bin NO_DEFAULT_PATH)
if(NOT AESWEEP_PYTHON3)
  find_program(AESWEEP_PYTHON3 NAMES python3)
endif()

set(_aesweep_archive_root "${CMAKE_CURRENT_LIST_DIR}/..")
set(_aesweep_archive_tests "${_aesweep_archive_root}/tests/archive")
set(_aesweep_archive_test_env
  OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1)

add_library(aesweep_archive_test_support STATIC
  ${_aesweep_archive_tests}/test_support.cpp)
target_link_libraries(aesweep_archive_test_support PUBLIC aesweep_archive GTest::gmock GTest::gtest)
target_compile_definitions(aesweep_archive_test_support PUBLIC
  AESWEEP_H5DUMP="${AESWEEP_H5DUMP}"
  AESWEEP_PYTHON3="${AESWEEP_PYTHON3}")

add_executable(archive_crash_writer ${_aesweep_archive_tests}/crash_writer.cpp)
target_link_libraries(archive_crash_writer PRIVATE aesweep_archive_test_support)

foreach(_name h5 layout sweep_archive)
  add_executable(archive_${_name}_test
    ${_aesweep_archive_tests}/${_name}_test.cpp
    ${_aesweep_archive_tests}/test_main.cpp)
  target_link_libraries(archive_${_name}_test PRIVATE aesweep_archive_test_support)
  target_include_directories(archive_${_name}_test PRIVATE ${_aesweep_archive_root}/src/archive)
  target_compile_definitions(archive_${_name}_test PRIVATE
    AESWEEP_CRASH_WRITER="$<TARGET_FILE:archive_crash_writer>")
  add_test(NAME archive_${_name}_test COMMAND archive_${_name}_test)
  set_tests_properties(archive_${_name}_test PROPERTIES
    ENVIRONMENT "${_aesweep_archive_test_env}" TIMEOUT 300)
endforeach()
add_dependencies(archive_sweep_archive_test archive_crash_writer)

add_executable(archive_mpi_test
  ${_aesweep_archive_tests}/sweep_archive_mpi_test.cpp
  ${_aesweep_archive_tests}/test_main.cpp)
target_link_libraries(archive_mpi_test PRIVATE aesweep_archive_test_support)
foreach(_np 1 2 3)
  add_test(NAME archive_mpi_test_np${_np}
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} ${_np} --oversubscribe ${MPIEXEC_PREFLAGS}
            $<TARGET_FILE:archive_mpi_test> ${MPIEXEC_POSTFLAGS})
  set_tests_properties(archive_mpi_test_np${_np} PROPERTIES
    ENVIRONMENT "${_aesweep_archive_test_env}" TIMEOUT 300 PROCESSORS ${_np})
endforeach()

# The transport the archive's collectives run on (agree_on_error, broadcasts, non-blocking sends),
# over three real ranks; its one-process run is a unit test of tests/dist.
if(TARGET mpi_communicator_test)
  add_test(NAME archive_mpi_communicator_np3
    COMMAND ${MPIEXEC_EXECUTABLE} ${MPIEXEC_NUMPROC_FLAG} 3 --oversubscribe ${MPIEXEC_PREFLAGS}
            $<TARGET_FILE:mpi_communicator_test> ${MPIEXEC_POSTFLAGS})
  set_tests_properties(archive_mpi_communicator_np3 PROPERTIES
    ENVIRONMENT "${_aesweep_archive_test_env}" TIMEOUT 120 PROCESSORS 3)
endif()
