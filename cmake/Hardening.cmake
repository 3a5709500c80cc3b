# Release hardening (dnsdist's "hardening" option): fortify, stack protector, full RELRO, PIE.
# Plus leanness: libstdc++/libgcc linked statically and unused sections dropped, so only the parts
# of libstdc++ in use are mapped (lower RSS; PSS not lower, as those pages are no longer shared).
# libfmt stays shared: Debian ships no libfmt.a.
if(CTRDNS_HARDEN)
  add_compile_options(-D_FORTIFY_SOURCE=2 -fstack-protector-strong -ffunction-sections
                      -fdata-sections)
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  add_link_options(-pie -Wl,-z,relro,-z,now -static-libstdc++ -static-libgcc -Wl,--gc-sections)
endif()
