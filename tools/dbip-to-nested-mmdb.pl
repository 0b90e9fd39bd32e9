#!/usr/bin/perl
# Converts DB-IP Lite City in the flat layout of ip-location-db (country_code, latitude,
# longitude, city, state1; one IPv4 and one IPv6 database, as tools/fetch-geoip.sh fetches
# them) into ONE database in MaxMind's nested GeoIP2-City layout, the layout gdnsd's geoip
# plugin needs (and geosteer reads as well), so that bench/realistic.sh can give both
# servers the very same data:
#
#   city.names.en            DB-IP city
#   continent.code           from the country, by the table of common/countries.cpp (the
#                            one geosteer itself uses for flat records)
#   country.iso_code         DB-IP country_code
#   location.latitude/longitude  doubles (gdnsd reads only doubles), rounded to 4 decimals
#                            as MaxMind's own databases are
#   subdivisions[0].names.en DB-IP state1, when there is one
#
# The output is an IPv6 tree with IPv4 under ::/96 and MaxMind's aliases of it
# (::ffff:0:0/96, 2001::/32, 2002::/16), as GeoIP2-City is; DB-IP's own records for
# 2001::/32 and 2002::/16 are dropped for those aliases. database_type contains "City"
# (gdnsd's test for a City database). Adjacent networks whose nested record is the same are
# inserted as one range. The build epoch is the IPv4 source's, so the same input gives the
# same bytes.
#
# Usage: dbip-to-nested-mmdb.pl OUT.mmdb IPV4.mmdb [IPV6.mmdb]
# Takes ~5 minutes and ~3 GB of memory for the whole of DB-IP Lite (15 million networks;
# the writer holds the tree in memory). Writes OUT.mmdb.tmp, then renames it.
#
# Data: DB-IP Lite, CC BY 4.0, "IP Geolocation by DB-IP" (https://db-ip.com); the output
# is a derivative and keeps that licence and attribution (in its metadata description).
use strict;
use warnings;
use utf8;

use File::Basename qw(dirname);
use Math::Int128 qw(uint128 uint128_to_net);
use MaxMind::DB::Reader;
use MaxMind::DB::Writer::Tree;
use Socket qw(inet_ntop AF_INET6);
use Time::HiRes qw(time);

my ($out, $ipv4_path, $ipv6_path) = @ARGV;
defined $ipv4_path or die "usage: $0 OUT.mmdb IPV4.mmdb [IPV6.mmdb]\n";

my %continent_of = read_continents(dirname(__FILE__) . '/../common/countries.cpp');

my %KEY_TYPES = (
    city         => 'map',
    continent    => 'map',
    country      => 'map',
    location     => 'map',
    subdivisions => ['array', 'map'],
    names        => 'map',
    en           => 'utf8_string',
    code         => 'utf8_string',
    iso_code     => 'utf8_string',
    latitude     => 'double',
    longitude    => 'double',
);

my $ipv4 = MaxMind::DB::Reader->new(file => $ipv4_path);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 28,
    database_type            => 'DBIP-City-Lite-Nested',
    languages                => ['en'],
    description              => {
        en => 'DB-IP Lite City (CC BY 4.0, IP Geolocation by DB-IP, https://db-ip.com) '
            . 'in the GeoIP2-City layout, made by geosteer tools/dbip-to-nested-mmdb.pl',
    },
    alias_ipv6_to_ipv4       => 1,
    remove_reserved_networks => 0,
    merge_strategy           => 'none',
    map_key_type_callback    => sub {
        my $key = shift;
        exists $KEY_TYPES{$key} or die "$0: no MMDB type for key '$key'\n";
        return $KEY_TYPES{$key};
    },
);
$tree->_set_build_epoch($ipv4->metadata->build_epoch);

my %records;    # one shared record per distinct content, so equal data is stored once
my $unknown_countries = 0;

convert($ipv4, 4);
convert(MaxMind::DB::Reader->new(file => $ipv6_path), 6) if defined $ipv6_path;
warn sprintf("%s: %d distinct records; %d of them for a country without a continent\n",
    $0, scalar keys %records, $unknown_countries);

my $started = time;
open my $fh, '>:raw', "$out.tmp" or die "$0: cannot write $out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "$0: cannot close $out.tmp: $!\n";
rename "$out.tmp", $out or die "$0: cannot rename $out.tmp to $out: $!\n";
warn sprintf("%s: wrote %s in %.0fs\n", $0, $out, time - $started);

# Walks one source database in address order and inserts runs of adjacent networks with
# the same nested record as single ranges.
sub convert {
    my ($reader, $family) = @_;
    my $width = $family == 4 ? 32 : 128;
    my ($networks, $ranges, $skipped) = (0, 0, 0);
    my ($first, $last, $key, $record);
    my $one = uint128(1);
    my $flush = sub {
        return unless defined $first;
        $tree->insert_range(address($first, $family), address($last, $family), $record);
        $ranges++;
    };
    my $started = time;
    $reader->iterate_search_tree(
        sub {
            my ($ip, $prefix, $flat) = @_;
            $networks++;
            if ($family == 6 && aliased_to_ipv4($ip, $prefix)) {
                $skipped++;
                return;
            }
            my ($k, $r) = nested_record($flat);
            my $end = $ip + (($one << ($width - $prefix)) - $one);
            if (defined $first && $k eq $key && $ip == $last + $one) {
                $last = $end;
                return;
            }
            $flush->();
            ($first, $last, $key, $record) = ($ip, $end, $k, $r);
        }
    );
    $flush->();
    warn sprintf("%s: IPv%d: %d networks as %d ranges%s in %.0fs\n", $0, $family, $networks,
        $ranges, $skipped ? " ($skipped in aliased space skipped)" : '', time - $started);
}

sub nested_record {
    my ($flat) = @_;
    my $country = $flat->{country_code} // '';
    my $city    = $flat->{city}         // '';
    my $state   = $flat->{state1}       // '';
    my @coordinates = map { defined $_ ? sprintf('%.4f', $_) : undef }
        @{$flat}{qw(latitude longitude)};
    my $key = join "\0", $country, $city, $state, map { $_ // '' } @coordinates;
    my $record = $records{$key} //= do {
        my %r;
        $r{city} = {names => {en => $city}} if $city ne '';
        if ($country ne '') {
            $r{country} = {iso_code => $country};
            if (my $continent = $continent_of{$country}) {
                $r{continent} = {code => $continent};
            }
            else {
                $unknown_countries++;
            }
        }
        $r{location} = {latitude => 0 + $coordinates[0], longitude => 0 + $coordinates[1]}
            if defined $coordinates[0] && defined $coordinates[1];
        $r{subdivisions} = [{names => {en => $state}}] if $state ne '';
        \%r;
    };
    return ($key, $record);
}

# The text form of an address held as a 128-bit integer (IPv4 in the low 32 bits, which
# the writer places under ::/96 of its IPv6 tree).
sub address {
    my ($n, $family) = @_;
    my $bytes = uint128_to_net($n);
    return $family == 4 ? join('.', unpack('C4', substr($bytes, 12))) : inet_ntop(AF_INET6, $bytes);
}

# ::/96 (IPv4), ::ffff:0:0/96, 2001::/32 (Teredo) and 2002::/16 (6to4) are aliases of the
# IPv4 tree in the output; DB-IP's IPv6 database has records for the last two.
sub aliased_to_ipv4 {
    my ($ip, $prefix) = @_;
    my $bytes = uint128_to_net($ip);
    return 1 if substr($bytes, 0, 10) eq "\0" x 10;
    return 1 if substr($bytes, 0, 4) eq "\x20\x01\0\0" && $prefix >= 32;
    return 1 if substr($bytes, 0, 2) eq "\x20\x02" && $prefix >= 16;
    return 0;
}

# {"DE", "EU"} pairs from geosteer's own country table, so that both servers see the
# continents geosteer would derive from the flat records.
sub read_continents {
    my ($path) = @_;
    open my $in, '<', $path or die "$0: cannot read $path: $!\n";
    my $text = do { local $/; <$in> };
    my %table = $text =~ /\{"([A-Z]{2})",\s*"([A-Z]{2})"\}/g;
    keys %table > 200 or die "$0: no country table found in $path\n";
    return %table;
}
