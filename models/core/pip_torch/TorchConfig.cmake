# Stand-in for the pip wheel's TorchConfig.cmake when OMNIHOST_TORCH=pip (see torch_pip.cmake):
# find_package(Torch) succeeds and names omnihost_torch, which models/core already created.
if(NOT TARGET omnihost_torch)
  set(Torch_FOUND FALSE)
  set(Torch_NOT_FOUND_MESSAGE "omnihost_torch is created by models/core; configure the whole tree")
  return()
endif()
set(TORCH_FOUND TRUE)
set(TORCH_LIBRARIES omnihost_torch)
set(TORCH_INCLUDE_DIRS "")
set(TORCH_CXX_FLAGS "")
