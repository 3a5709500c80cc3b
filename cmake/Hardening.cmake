# Release hardening (dnsdist's "hardening" option): fortify, stack protector, full RELRO, PIE.
if(CTRDNS_HARDEN)
  add_compile_options(-D_FORTIFY_SOURCE=2 -fstack-protector-strong)
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
  add_link_options(-pie -Wl,-z,relro,-z,now)
endif()
