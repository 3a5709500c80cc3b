#include "dns/header.hpp"

#include "dns/wire_reader.hpp"
#include "dns/wire_writer.hpp"

namespace dns {

Header Header::read(WireReader& reader) noexcept {
    Header header;
    header.id = reader.read_u16();
    header.flags = reader.read_u16();
    header.qdcount = reader.read_u16();
    header.ancount = reader.read_u16();
    header.nscount = reader.read_u16();
    header.arcount = reader.read_u16();
    return header;
}

void Header::write(WireWriter& writer) const noexcept {
    writer.write_u16(id);
    writer.write_u16(flags);
    writer.write_u16(qdcount);
    writer.write_u16(ancount);
    writer.write_u16(nscount);
    writer.write_u16(arcount);
}

} // namespace dns
