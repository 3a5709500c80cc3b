# `cmake --install`: the binary, its aardvark-dns name for Podman, the man page and bash completion.
# (src/CMakeLists.txt installs the ctrdns target itself into bin/.)
#
# The aardvark-dns name lives in a directory of its own, not in Podman's /usr/lib/podman (which
# Debian's aardvark-dns package owns): a containers.conf drop-in (packaging/containers.conf.d)
# lists that directory first in helper_binaries_dir, so removing it gives Podman aardvark-dns back.
# It is a relative symlink to bin/ctrdns rather than a second copy: one file on disk, so the server
# netavark starts and the `ctrdns check` an operator runs are always the same build, and
# /proc/PID/exe of the running server names bin/ctrdns (how an operator tells which server runs).
# netavark passes the path as argv[0]; ctrdns logs as "aardvark-dns" when started by that name.
include(GNUInstallDirs)
if(NOT TARGET ctrdns)
  return()
endif()

# Arch-independent on purpose, like Podman's own /usr/lib/podman (not the multiarch libdir).
set(CTRDNS_HELPER_DIR "lib/ctrdns" CACHE STRING
    "directory (relative to the prefix) for the aardvark-dns name Podman finds")

install(CODE "
  set(_helper_dir \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CTRDNS_HELPER_DIR}\")
  set(_binary \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/ctrdns\")
  file(MAKE_DIRECTORY \"\${_helper_dir}\")
  file(RELATIVE_PATH _target \"\${_helper_dir}\" \"\${_binary}\")
  message(STATUS \"Installing: \${_helper_dir}/aardvark-dns -> \${_target}\")
  file(CREATE_LINK \"\${_target}\" \"\${_helper_dir}/aardvark-dns\" SYMBOLIC)
")
install(FILES ${PROJECT_SOURCE_DIR}/packaging/ctrdns.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${PROJECT_SOURCE_DIR}/packaging/bash-completion/ctrdns
        DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions)
