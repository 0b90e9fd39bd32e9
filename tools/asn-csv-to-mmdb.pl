#!/usr/bin/perl
# Converts the ASN ranges of the npm package @ip-location-db/asn (asn-ipv4.csv and
# asn-ipv6.csv: start,end,autonomous_system_number,autonomous_system_organization, an
# inclusive range per row, RFC 4180 quoting: organisation names hold commas and doubled
# quotes) into ONE MaxMind DB in MaxMind's GeoLite2-ASN layout:
#
#   autonomous_system_number        uint32
#   autonomous_system_organization  utf8_string
#
# Each range becomes the minimal set of CIDR networks that covers it exactly. The output is
# an IPv6 tree with IPv4 under ::/96 and MaxMind's aliases of it (::ffff:0:0/96, 2001::/32,
# 2002::/16), as GeoLite2-ASN is; the parts of IPv6 rows inside ::/96 or an aliased network
# (the package has rows for 2001::/32 and 2002::/16) are dropped for those aliases, so a
# 6to4 or Teredo address gets the ASN of the IPv4 address it embeds (for Teredo, the
# server's). Where rows overlap (the
# npm data has such errors), the later row wins, and the overlaps are counted on stderr.
#
# database_type is 'ipLocationDb-ASN', not 'GeoLite2-ASN': the layout is MaxMind's but the
# data is not, and a reader (geosteer included) recognises an ASN database by its records,
# not by that name; "ASN" in it still tells a person what the file holds.
#
# The output is deterministic: the build epoch is the date in the package version
# (2.3.YYYYMMDDHH, UTC), read from package.json beside the IPv4 CSV or given as --version,
# and the same input gives the same bytes.
#
# Usage: asn-csv-to-mmdb.pl [--version=V] OUT.mmdb ASN-IPV4.csv [ASN-IPV6.csv]
# Writes OUT.mmdb.tmp, then renames it. Takes 15 to 35 s (2 cores, idle to busy) and 200 MB
# of memory for the whole package (515k ranges, 730k networks, an 11.5 MB file).
#
# Data: RouteViews (CC BY 4.0, routeviews.org), NRO / the five RIRs (CC BY 4.0, nro.net) and
# DB-IP IP to ASN Lite (CC BY 4.0, "IP Geolocation by DB-IP", https://db-ip.com); the output
# is a derivative and keeps those licences and attributions (in its metadata description).
use strict;
use warnings;

use Encode qw(decode FB_CROAK);
use File::Basename qw(dirname);
use Getopt::Long qw(GetOptions);
use JSON::PP qw(decode_json);
use Math::Int128 qw(uint128 net_to_uint128 uint128_to_net);
use MaxMind::DB::Writer::Tree;
use Socket qw(inet_pton inet_ntop AF_INET AF_INET6);
use Text::CSV_XS;
use Time::HiRes qw(time);
use Time::Local qw(timegm);

my $version;
GetOptions('version=s' => \$version) or usage();
my ($out, $ipv4_path, $ipv6_path) = @ARGV;
defined $ipv4_path && @ARGV <= 3 or usage();

$version //= package_version(dirname($ipv4_path) . '/package.json');
my $build_epoch = epoch_of_version($version);

my %KEY_TYPES = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version    => 6,
    record_size   => 28,
    database_type => 'ipLocationDb-ASN',
    languages     => ['en'],
    description   => {
        en => "ASN data of \@ip-location-db/asn $version: RouteViews (CC BY 4.0, "
            . 'routeviews.org), NRO (CC BY 4.0, nro.net) and DB-IP IP to ASN Lite (CC BY 4.0, '
            . 'IP Geolocation by DB-IP, https://db-ip.com), in the GeoLite2-ASN layout, made '
            . 'by geosteer tools/asn-csv-to-mmdb.pl',
    },
    alias_ipv6_to_ipv4 => 1,
    # Keep every row: the package has real announcements in ranges the writer would call
    # reserved (192.88.99.0/24, the AS112 prefix 2001:4:112::/48).
    remove_reserved_networks => 0,
    merge_strategy           => 'none',
    map_key_type_callback    => sub {
        my $key = shift;
        exists $KEY_TYPES{$key} or die "$0: no MMDB type for key '$key'\n";
        return $KEY_TYPES{$key};
    },
);
$tree->_set_build_epoch($build_epoch);

my %records;    # one shared record per (ASN, organisation), so equal data is stored once

# IPv6 space that the IPv4 tree owns in the output: ::/96 itself and its aliases.
my @IPV4_OWNED = map { [network_bounds($_)] } qw(::/96 ::ffff:0:0/96 2001::/32 2002::/16);

my $started = time;
convert($ipv4_path, 4);
convert($ipv6_path, 6) if defined $ipv6_path;
warn sprintf("%s: %d distinct records\n", $0, scalar keys %records);

my $write_started = time;
open my $fh, '>:raw', "$out.tmp" or die "$0: cannot write $out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$0: cannot close $out.tmp: $!\n";
rename "$out.tmp", $out or die "$0: cannot rename $out.tmp to $out: $!\n";
warn sprintf("%s: wrote %s (%d bytes, build epoch %d) in %.1fs, %.1fs in all\n",
    $0, $out, -s $out, $build_epoch, time - $write_started, time - $started);

sub usage {
    die "usage: $0 [--version=V] OUT.mmdb ASN-IPV4.csv [ASN-IPV6.csv]\n"
        . "  V is the \@ip-location-db/asn version (2.3.YYYYMMDDHH); by default it is read\n"
        . "  from package.json beside ASN-IPV4.csv\n";
}

sub package_version {
    my ($path) = @_;
    open my $in, '<:raw', $path
        or die "$0: cannot read $path ($!); give the package version as --version\n";
    my $json = decode_json(do { local $/; <$in> });
    return $json->{version} // die "$0: no version in $path\n";
}

# 2.3.2026061719 -> 2026-06-17T19:00:00Z, the date the package's data was made.
sub epoch_of_version {
    my ($v) = @_;
    my ($y, $mo, $d, $h) = $v =~ /^\d+\.\d+\.(\d{4})(\d\d)(\d\d)(\d\d)$/
        or die "$0: version '$v' does not end in YYYYMMDDHH\n";
    my $epoch = eval { timegm(0, 0, $h, $d, $mo - 1, $y) };
    defined $epoch or die "$0: version '$v' has no valid date: $@";
    return $epoch;
}

sub convert {
    my ($path, $family) = @_;
    my $af    = $family == 4 ? AF_INET : AF_INET6;
    my $width = $family == 4 ? 32      : 128;
    # decode_utf8 => 0: the organisation is decoded below, strictly (Text::CSV_XS would
    # silently leave invalid UTF-8 as bytes).
    my $csv = Text::CSV_XS->new({binary => 1, strict => 1, decode_utf8 => 0});
    open my $in, '<:raw', $path or die "$0: cannot read $path: $!\n";
    my ($rows, $networks, $dropped, $overlaps, @overlap_examples) = (0, 0, 0, 0);
    my $max_end;
    my $started = time;
    while (my $row = $csv->getline($in)) {
        $rows++;
        my $where = "$path:$.";
        @$row == 4 or die "$0: $where: " . scalar(@$row) . " fields, not 4\n";
        my ($first_text, $last_text, $asn, $org) = @$row;
        my $first = address($first_text, $af, $where);
        my $last  = address($last_text,  $af, $where);
        $first <= $last or die "$0: $where: range $first_text-$last_text is backwards\n";
        $asn =~ /^[0-9]{1,10}$/ && $asn <= 4294967295
            or die "$0: $where: '$asn' is not an AS number\n";
        $org = eval { decode('UTF-8', $org, FB_CROAK) }
            // die "$0: $where: organisation is not UTF-8\n";
        if (defined $max_end && $first <= $max_end) {
            $overlaps++;
            push @overlap_examples, "$first_text-$last_text (line $.)" if @overlap_examples < 3;
        }
        $max_end = $last if !defined $max_end || $last > $max_end;

        my $record = $records{"$asn\0$org"} //= {
            autonomous_system_number       => 0 + $asn,
            autonomous_system_organization => $org,
        };
        my @pieces = $family == 6 ? without_ipv4_owned($first, $last) : ([$first, $last]);
        $dropped++ if @pieces != 1 || $pieces[0][0] != $first || $pieces[0][1] != $last;
        for my $piece (@pieces) {
            for my $cidr (cidrs(@$piece, $width)) {
                $tree->insert_network(text_of($cidr->[0], $family) . '/' . $cidr->[1], $record);
                $networks++;
            }
        }
    }
    $csv->eof or die "$0: $path:" . ($. + 1) . ': ' . $csv->error_diag . "\n";
    close $in;
    $rows > 0 or die "$0: $path has no rows\n";
    warn sprintf("%s: IPv%d: %d ranges as %d networks in %.1fs%s%s\n", $0, $family, $rows,
        $networks, time - $started,
        $dropped ? "; $dropped cut where the IPv4 tree and its aliases are" : '',
        $overlaps ? "; $overlaps overlap earlier rows (the later row wins), e.g. "
            . join(', ', @overlap_examples) : '');
}

# An address as a 128-bit integer (IPv4 in the low 32 bits).
sub address {
    my ($text, $af, $where) = @_;
    my $bytes = inet_pton($af, $text)
        // die "$0: $where: '$text' is not an IPv" . ($af == AF_INET ? 4 : 6) . " address\n";
    return net_to_uint128(("\0" x (16 - length $bytes)) . $bytes);
}

sub text_of {
    my ($n, $family) = @_;
    my $bytes = uint128_to_net($n);
    return $family == 4 ? join('.', unpack('C4', substr($bytes, 12))) : inet_ntop(AF_INET6, $bytes);
}

sub network_bounds {
    my ($network) = @_;
    my ($ip, $prefix) = split m{/}, $network;
    my $first = net_to_uint128(inet_pton(AF_INET6, $ip));
    my $host_bits = 128 - $prefix;
    return ($first, $first + ((uint128(1) << $host_bits) - 1));
}

# The parts of an IPv6 range outside the space the IPv4 tree owns.
sub without_ipv4_owned {
    my ($first, $last) = @_;
    my @pieces = ([$first, $last]);
    for my $owned (@IPV4_OWNED) {
        my ($a, $b) = @$owned;
        @pieces = map {
            my ($p, $q) = @$_;
            $q < $a || $p > $b
                ? [$p, $q]
                : (($p < $a ? [$p, $a - 1] : ()), ($q > $b ? [$b + 1, $q] : ()));
        } @pieces;
    }
    return @pieces;
}

# The minimal list of [network, prefix length] that covers first..last exactly: from the
# start, always the largest block that is aligned there and does not run past the end.
sub cidrs {
    my ($first, $last, $width) = @_;
    my @out;
    while (1) {
        # trailing zero bits of $first (alignment), and floor(log2(size)) of what is left;
        # 0 has no '1' bit: an address 0 is aligned to anything, and a size of 2^128 wraps
        # to 0.
        my $lowest  = rindex(unpack('B128', uint128_to_net($first)), '1');
        my $aligned = $lowest < 0 ? 128 : 127 - $lowest;
        my $highest = index(unpack('B128', uint128_to_net($last - $first + 1)), '1');
        my $fits    = $highest < 0 ? 128 : 127 - $highest;
        my $bits = $aligned < $fits ? $aligned : $fits;
        $bits = $width if $bits > $width;
        push @out, [$first, $width - $bits];
        last if $bits == 128;    # all of IPv6 (a shift by 128 would wrap)
        my $block_last = $first + ((uint128(1) << $bits) - 1);
        last if $block_last >= $last;
        $first = $block_last + 1;
    }
    return @out;
}
