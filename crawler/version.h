/* version.h - trawl's version, for --version, the default User-Agent and WARC warcinfo. */
#ifndef TW_VERSION_H
#define TW_VERSION_H

#define TW_VERSION "0.1"

#endif
