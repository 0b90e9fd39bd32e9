#!/usr/bin/perl
# Writes the small MMDB databases the tests look addresses up in:
#   flat-ipv4.mmdb   DB-IP Lite layout (country_code, latitude, longitude), IPv4 tree
#   flat-ipv6.mmdb   the same layout, IPv6 tree
#   nested-city.mmdb MaxMind GeoLite2-City layout, IPv6 tree with IPv4 in ::/96
#   benchmark-net.mmdb DB-IP flat layout, IPv4: the benchmarking range 198.18.0.0/15,
#                    where the network-namespace tests build their own small Internet
#   asn.mmdb         MaxMind GeoLite2-ASN layout (autonomous_system_number and
#                    _organization), IPv6 tree with IPv4 in ::/96
#   asn-odd.mmdb     the same layout, its numbers as uint128 and its first record
#                    without a number: still an ASN database
# Usage: make-mmdb-fixtures.pl OUTDIR
#
# The output is deterministic (fixed build epoch, no time or randomness) so that a
# rebuild reproduces the same bytes. Networks from documentation and shared address
# space (192.0.2.0/24, 203.0.113.0/24, 2001:db8::/32) are used on purpose, hence
# remove_reserved_networks => 0.
use strict;
use warnings;
use utf8;

use MaxMind::DB::Writer::Tree;

my $outdir = shift @ARGV or die "usage: $0 OUTDIR\n";
-d $outdir or die "$0: $outdir is not a directory\n";

# Any fixed value will do; this one is 2026-01-01T00:00:00Z.
my $BUILD_EPOCH = 1767225600;

# Types of every map key in both layouts; libmaxminddb callers check entry types,
# so coordinates must really be float/double and not strings.
my %KEY_TYPES = (
    # flat (DB-IP Lite): the real databases store coordinates as 32-bit floats
    city         => 'utf8_string',
    country_code => 'utf8_string',
    latitude     => 'float',
    longitude    => 'float',
    state1       => 'utf8_string',
    # nested (MaxMind)
    continent       => 'map',
    country         => 'map',
    location        => 'map',
    names           => 'map',
    en              => 'utf8_string',
    code            => 'utf8_string',
    iso_code        => 'utf8_string',
    accuracy_radius => 'uint16',
    # ASN (GeoLite2-ASN)
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);

# In the nested layout "city" is a map and latitude/longitude are doubles; the
# callback only sees the key, so nested trees get their own overrides.
my %NESTED_KEY_TYPES = (%KEY_TYPES, city => 'map', latitude => 'double', longitude => 'double');

sub new_tree {
    my (%args) = @_;
    my $types = delete $args{key_types};
    my $tree = MaxMind::DB::Writer::Tree->new(
        record_size              => 28,
        languages                => ['en'],
        remove_reserved_networks => 0,
        merge_strategy           => 'none',
        map_key_type_callback    => sub {
            my $key = shift;
            exists $types->{$key} or die "$0: no MMDB type for key '$key'\n";
            return $types->{$key};
        },
        %args,
    );
    $tree->_set_build_epoch($BUILD_EPOCH);
    return $tree;
}

sub write_tree {
    my ($tree, $name) = @_;
    my $path = "$outdir/$name";
    open my $fh, '>:raw', "$path.tmp" or die "$0: cannot write $path.tmp: $!\n";
    $tree->write_tree($fh);
    close $fh or die "$0: cannot close $path.tmp: $!\n";
    rename "$path.tmp", $path or die "$0: cannot rename to $path: $!\n";
}

sub flat_record {
    my ($city, $country, $lat, $lon, $state) = @_;
    return {
        city         => $city,
        country_code => $country,
        latitude     => $lat,
        longitude    => $lon,
        state1       => $state,
    };
}

sub nested_record {
    my ($city, $country, $country_name, $continent, $continent_name, $lat, $lon) = @_;
    return {
        continent => { code => $continent, names => { en => $continent_name } },
        country   => { iso_code => $country, names => { en => $country_name } },
        city      => { names => { en => $city } },
        location  => { latitude => $lat, longitude => $lon, accuracy_radius => 50 },
    };
}

my %FLAT = (
    berlin        => flat_record('Berlin',        'DE', 52.52,  13.40,   'Berlin'),
    mountain_view => flat_record('Mountain View', 'US', 37.42,  -122.08, 'California'),
    tokyo         => flat_record('Tokyo',         'JP', 35.68,  139.69,  'Tokyo'),
    sao_paulo     => flat_record('São Paulo',     'BR', -23.55, -46.63,  'São Paulo'),
    beijing       => flat_record('Beijing',       'CN', 39.90,  116.40,  'Beijing'),
    johannesburg  => flat_record('Johannesburg',  'ZA', -26.20, 28.04,   'Gauteng'),
    paris         => flat_record('Paris',         'FR', 48.85,  2.35,    'Île-de-France'),
    sydney        => flat_record('Sydney',        'AU', -33.87, 151.21,  'New South Wales'),
);

sub write_flat_ipv4 {
    my $tree = new_tree(
        ip_version    => 4,
        database_type => 'DBIP-City-Lite-IPv4-Fixture',
        description   => { en => 'geosteer test fixture, DB-IP flat layout, IPv4' },
        key_types     => \%KEY_TYPES,
    );
    my @networks = (
        ['130.149.0.0/16', $FLAT{berlin}],
        ['8.8.8.0/24',     $FLAT{mountain_view}],
        ['133.11.0.0/16',  $FLAT{tokyo}],
        ['143.107.0.0/16', $FLAT{sao_paulo}],
        ['1.2.4.0/24',     $FLAT{beijing}],
        ['41.0.0.0/11',    $FLAT{johannesburg}],
        ['203.0.113.0/24', $FLAT{tokyo}],
        ['192.0.2.0/24',   $FLAT{paris}],
        # A record with a country and no coordinates (DB-IP has such records).
        ['5.5.0.0/16',     { country_code => 'FR' }],
    );
    $tree->insert_network(@$_) for @networks;
    write_tree($tree, 'flat-ipv4.mmdb');
}

sub write_flat_ipv6 {
    my $tree = new_tree(
        ip_version    => 6,
        database_type => 'DBIP-City-Lite-IPv6-Fixture',
        description   => { en => 'geosteer test fixture, DB-IP flat layout, IPv6' },
        key_types     => \%KEY_TYPES,
    );
    my @networks = (
        ['2001:638::/32',    $FLAT{berlin}],
        ['2001:200::/32',    $FLAT{tokyo}],
        ['2600:1700::/24',   $FLAT{mountain_view}],
        ['2804:14c::/32',    $FLAT{sao_paulo}],
        ['2001:db8:99::/48', $FLAT{sydney}],
    );
    $tree->insert_network(@$_) for @networks;
    write_tree($tree, 'flat-ipv6.mmdb');
}

sub write_nested_city {
    my $tree = new_tree(
        ip_version    => 6,
        # IPv4 networks go into ::/96, where libmaxminddb looks IPv4 addresses up;
        # aliasing also makes IPv4-mapped (::ffff:0:0/96) and 6to4 lookups work.
        alias_ipv6_to_ipv4 => 1,
        database_type      => 'GeoLite2-City',
        description        => { en => 'geosteer test fixture, MaxMind nested layout' },
        key_types          => \%NESTED_KEY_TYPES,
    );
    my $berlin = nested_record('Berlin', 'DE', 'Germany', 'EU', 'Europe', 52.52, 13.40);
    my $mountain_view =
        nested_record('Mountain View', 'US', 'United States', 'NA', 'North America', 37.42, -122.08);
    my $tokyo = nested_record('Tokyo', 'JP', 'Japan', 'AS', 'Asia', 35.68, 139.69);
    my $johannesburg =
        nested_record('Johannesburg', 'ZA', 'South Africa', 'AF', 'Africa', -26.20, 28.04);
    my @networks = (
        ['130.149.0.0/16', $berlin],
        ['8.8.8.0/24',     $mountain_view],
        ['133.11.0.0/16',  $tokyo],
        ['2001:638::/32',  $berlin],
        ['41.0.0.0/11',    $johannesburg],
    );
    $tree->insert_network(@$_) for @networks;
    write_tree($tree, 'nested-city.mmdb');
}

# The end-to-end tests run clients, a resolver, geosteer and mirrors in network
# namespaces on 198.18.0.0/15 (RFC 2544, never routed), so they need that range
# placed on the map: one client network per city. The rest of the range, where the
# resolver and the servers live, has no location.
sub write_benchmark_net {
    my $tree = new_tree(
        ip_version    => 4,
        database_type => 'DBIP-City-Lite-IPv4-Fixture',
        description   => { en => 'geosteer test fixture, 198.18.0.0/15 for network namespaces' },
        key_types     => \%KEY_TYPES,
    );
    my @networks = (
        ['198.18.1.0/24', $FLAT{berlin}],
        ['198.18.2.0/24', $FLAT{tokyo}],
        ['198.18.3.0/24', $FLAT{sao_paulo}],
    );
    $tree->insert_network(@$_) for @networks;
    write_tree($tree, 'benchmark-net.mmdb');
}

# AS numbers for the networks of the city fixtures. 41.0.0.0/11 (Johannesburg in
# the city data) is split between two ASes, so that a test can see an AS boundary
# inside one location; 64500-64511 are reserved for documentation (RFC 5398).
sub write_asn {
    my $tree = new_tree(
        ip_version         => 6,
        alias_ipv6_to_ipv4 => 1,
        database_type      => 'GeoLite2-ASN',
        description        => { en => 'geosteer test fixture, MaxMind ASN layout' },
        key_types          => \%KEY_TYPES,
    );
    my $as = sub {
        my ($number, $organization) = @_;
        return { autonomous_system_number => $number, autonomous_system_organization => $organization };
    };
    my @networks = (
        ['130.149.0.0/16', $as->(680,   'Verein zur Foerderung eines Deutschen Forschungsnetzes e.V.')],
        ['2001:638::/32',  $as->(680,   'Verein zur Foerderung eines Deutschen Forschungsnetzes e.V.')],
        ['8.8.8.0/24',     $as->(15169, 'GOOGLE')],
        ['133.11.0.0/16',  $as->(2501,  'The University of Tokyo')],
        ['41.0.0.0/12',    $as->(64500, 'Example South ISP')],
        ['41.16.0.0/12',   $as->(64501, 'Example North ISP')],
        ['143.107.0.0/16', $as->(6939,  'Hurricane Electric LLC')],
    );
    $tree->insert_network(@$_) for @networks;
    write_tree($tree, 'asn.mmdb');
}

sub write_asn_odd {
    my $tree = new_tree(
        ip_version    => 4,
        database_type => 'ASN-Fixture-Odd',
        description   => { en => 'geosteer test fixture, ASN layout with uint128 numbers' },
        key_types     => { %KEY_TYPES, autonomous_system_number => 'uint128' },
    );
    $tree->insert_network('1.0.0.0/24', { autonomous_system_organization => 'No number here' });
    $tree->insert_network('8.8.8.0/24',
        { autonomous_system_number => 15169, autonomous_system_organization => 'GOOGLE' });
    write_tree($tree, 'asn-odd.mmdb');
}

write_flat_ipv4();
write_flat_ipv6();
write_benchmark_net();
write_nested_city();
write_asn();
write_asn_odd();
