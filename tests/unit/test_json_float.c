/* test_json_float.c: Prometheus' float and timestamp text of the JSON
 * writer (pvm_format_float, pvm_format_timestamp): checked against outputs
 * of Go's strconv, computed independently from shortest round-trip digits,
 * and against the previous snprintf/strtod implementation kept in
 * json_ref.c on millions of values. Part of test_json (test_json.h). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "json.h"
#include "json_ref.h"
#include "test_json.h"
#include "testutil.h"

/* Expected text of pvm_format_float: Go's FormatFloat(v, 'f' or 'e', -1). */
const json_float_case float_cases[] = {
    {NAN, "NaN"},
    {INFINITY, "+Inf"},
    {-INFINITY, "-Inf"},
    {0.0, "0"},
    {-0.0, "-0"},
    {0x1.0000000000000p+0, "1"},
    {0x1.999999999999ap-4, "0.1"},
    {-0x1.0000000000000p+4, "-16"},
    {0x1.ad7f29abcaf48p-24, "1e-07"},
    {0x1.b1ae4d6e2ef50p+69, "1e+21"},
    {0x1.1eb2d66005835p+997, "1.5e+300"},
    {0x1.ac53a7e04bcdap+66, "123456789012345680000"},
    {0x1.3333333333334p-2, "0.30000000000000004"},
    {0x1.0c6f7a0b5ed8dp-20, "0.000001"},
    {0x0.0000000000001p-1022, "5e-324"},
    {0x1.fffffffffffffp+1023, "1.7976931348623157e+308"},
    {0x1.9000000000000p+6, "100"},
    {0x1.5af1d78b58c40p+66, "100000000000000000000"},
    {0x1.edd2f1a9fbe77p+6, "123.456"},
    {0x1.0000000000000p+53, "9007199254740992"},
    {0x1.0000000000001p+53, "9007199254740994"},
    {0x1.0000000000000p+63, "9223372036854776000"},
    {0x1.0000000000000p+64, "18446744073709552000"},
    {-0x1.0000000000000p+63, "-9223372036854776000"},
    {0x1.b1ae4d6e2ef4fp+69, "999999999999999900000"},
    {0x1.b1ae4d6e2ef48p+69, "999999999999999000000"},
    {0x1.b1ae4d6e2ef4ep+69, "999999999999999700000"},
    {0x1.0c6f7a0b5ed8cp-20, "9.999999999999997e-07"},
    {0x1.0c6f7a0b5ed8ep-20, "0.0000010000000000000002"},
    {0x1.0000000000000p-1022, "2.2250738585072014e-308"},
    {0x0.fffffffffffffp-1022, "2.225073858507201e-308"},
    {0x0.0000000000003p-1022, "1.5e-323"},
    {0x1.5555555555555p-2, "0.3333333333333333"},
    {0x1.5555555555555p-1, "0.6666666666666666"},
    {0x1.0aaaaaaaaaaabp+5, "33.333333333333336"},
    {0x1.0000000000001p+0, "1.0000000000000002"},
    {0x1.3333333333333p-2, "0.3"},
    {0x1.1666666666666p+2, "4.35"},
    {0x1.4f8b588e368f1p-17, "0.00001"},
    {0x1.a36e2eb1c432dp-16, "0.000025"},
    {0x1.4b3fd5942cd96p-20, "0.000001234"},
    {0x1.e240c9fbe76c9p+16, "123456.789"},
    {0x1.c6bf526340000p+49, "1000000000000000"},
    {0x1.1c37937e08000p+53, "10000000000000000"},
    {0x1.6345785d8a000p+56, "100000000000000000"},
    {0x1.8000000000000p+0, "1.5"},
    {-0x1.8000000000000p+0, "-1.5"},
    {0x1.0000000000000p-1, "0.5"},
    {0x1.0000000000000p-2, "0.25"},
    {0x1.0000000000000p-3, "0.125"},
    {0x1.47ae147ae147bp-7, "0.01"},
    {0x1.0624dd2f1a9fcp-10, "0.001"},
    {0x1.a36e2eb1c432dp-14, "0.0001"},
    {0x1.0f0cf064dd592p+73, "1e+22"},
    {0x1.52d02c7e14af6p+76, "1e+23"},
    {0x1.0c6f7a0b5ed8dp-21, "5e-07"},
    {0x1.fe07017c01026p-21, "9.5e-07"},
    {0x1.c7e83209e90b2p+72, "8.41e+21"},
    {0x1.921f9f01b866ep+1, "3.14159"},
    {0x1.5bf0a8b145769p+1, "2.718281828459045"},
    {0x1.ddd4baa009303p+999, "1e+301"},
    {0x1.1de784a000000p+28, "299792458"},
    {0x1.fe185ca57c517p+78, "6.02214076e+23"},
    {0x1.7a4da290c1653p-63, "1.602176634e-19"},
    {0x1.9999999999999p-1, "0.7999999999999999"},
    {0x1.35c28f5c28f5dp+0, "1.2100000000000002"},
    {0x1.0000000000000p+52, "4503599627370496"},
    {0x1.0000000000002p+52, "4503599627370498"},
    {0x1.b69b4ba630f35p+56, "123456789012345680"},
    {0x1.01f31f46ed246p-13, "0.000123"},
    {0x1.fffffffffffffp+1022, "8.988465674311579e+307"},
    {0x1.0000000000000p-1000, "9.332636185032189e-302"},
    {0x1.0000000000000p+1000, "1.0715086071862673e+301"},
    {0x1.0000000000000p+100, "1.2676506002282294e+30"},
    {0x1.0000000000000p-20, "9.5367431640625e-07"},
    {0x1.0000000000000p-30, "9.313225746154785e-10"},
    {0x0.00000000007e8p-1022, "1e-320"},
    {0x1.0000000000000p+1023, "8.98846567431158e+307"},
    {0x0.05c0ab9347ed7p-1022, "5e-310"},
    {0x0.0002000000000p-1022, "6.7903865311e-313"},
    {0x1.0000000000000p-963, "1.2826677504057426e-290"},
    {0x1.0000000000000p-926, "1.7628851326804976e-279"},
    {0x1.0000000000000p-889, "2.4228908772695546e-268"},
    {0x1.0000000000000p-852, "3.329995865487836e-257"},
    {0x1.0000000000000p-815, "4.5767114681873503e-246"},
    {0x1.0000000000000p-778, "6.290184345309701e-235"},
    {0x1.0000000000000p-741, "8.645163535653227e-224"},
    {0x1.0000000000000p-704, "1.188182228934475e-212"},
    {0x1.0000000000000p-667, "1.6330252207878255e-201"},
    {0x1.0000000000000p-630, "2.2444127733846047e-190"},
    {0x1.0000000000000p-593, "3.084697427331692e-179"},
    {0x1.0000000000000p-556, "4.239575861902385e-168"},
    {0x1.0000000000000p-519, "5.826828696250162e-157"},
    {0x1.0000000000000p-482, "8.008332380732404e-146"},
    {0x1.0000000000000p-445, "1.1006568214637918e-134"},
    {0x1.0000000000000p-408, "1.512731216738015e-123"},
    {0x1.0000000000000p-371, "2.07908195312898e-112"},
    {0x1.0000000000000p-334, "2.8574684782056875e-101"},
    {0x1.0000000000000p-297, "3.9272747722381812e-90"},
    {0x1.0000000000000p-260, "5.397605346934028e-79"},
    {0x1.0000000000000p-223, "7.418412301374843e-68"},
    {0x1.0000000000000p-186, "1.0195788231247695e-56"},
    {0x1.0000000000000p-149, "1.401298464324817e-45"},
    {0x1.0000000000000p-112, "1.925929944387236e-34"},
    {0x1.0000000000000p-75, "2.6469779601696886e-23"},
    {0x1.0000000000000p-38, "3.637978807091713e-12"},
    {0x1.0000000000000p+36, "68719476736"},
    {0x1.0000000000000p+73, "9.44473296573929e+21"},
    {0x1.0000000000000p+110, "1.298074214633707e+33"},
    {0x1.0000000000000p+147, "1.78405961588245e+44"},
    {0x1.0000000000000p+184, "2.4519928653854222e+55"},
    {0x1.0000000000000p+221, "3.36999333339383e+66"},
    {0x1.0000000000000p+258, "4.631683569492648e+77"},
    {0x1.0000000000000p+295, "6.365737426045269e+88"},
    {0x1.0000000000000p+332, "8.749002899132048e+99"},
    {0x1.0000000000000p+369, "1.2024538023802026e+111"},
    {0x1.0000000000000p+406, "1.6526399219756215e+122"},
    {0x1.0000000000000p+443, "2.2713710134237715e+133"},
    {0x1.0000000000000p+480, "3.1217485503159922e+144"},
    {0x1.0000000000000p+517, "4.290498537581631e+155"},
    {0x1.0000000000000p+554, "5.896816288783659e+166"},
    {0x1.0000000000000p+591, "8.10452259547069e+177"},
    {0x1.0000000000000p+628, "1.1138771039116688e+189"},
    {0x1.0000000000000p+665, "1.5309010345804195e+200"},
    {0x1.0000000000000p+702, "2.1040543606193494e+211"},
    {0x1.0000000000000p+739, "2.891790293717215e+222"},
    {0x1.0000000000000p+776, "3.974446316289815e+233"},
    {0x1.0000000000000p+813, "5.462437423415177e+244"},
    {0x1.0000000000000p+850, "7.5075168288047e+255"},
    {0x1.0000000000000p+887, "1.0318252561243462e+267"},
    {0x1.0000000000000p+924, "1.418129833677085e+278"},
    {0x1.0000000000000p+961, "1.94906280228e+289"},
    {0x1.0000000000000p+998, "2.6787715179656683e+300"},
    {0x1.ef2d0f5da7dd9p-84, "1e-25"},
    {0x1.31aa097c3f245p-80, "9.87654321e-25"},
    {0x1.357c299a88ea7p-80, "1e-24"},
    {0x1.7e148bdb4eed7p-77, "9.87654321e-24"},
    {0x1.82db34012b251p-77, "1e-23"},
    {0x1.dd99aed222a8cp-74, "9.87654321e-23"},
    {0x1.e392010175ee6p-74, "1e-22"},
    {0x1.2a800d4355a98p-70, "9.87654321e-22"},
    {0x1.2e3b40a0e9b4fp-70, "1e-21"},
    {0x1.752010942b13ep-67, "9.87654321e-21"},
    {0x1.79ca10c924223p-67, "1e-20"},
    {0x1.d26814b935d8dp-64, "9.87654321e-20"},
    {0x1.d83c94fb6d2acp-64, "1e-19"},
    {0x1.23810cf3c1a78p-60, "9.87654321e-19"},
    {0x1.2725dd1d243acp-60, "1e-18"},
    {0x1.6c615030b2116p-57, "9.87654321e-18"},
    {0x1.70ef54646d497p-57, "1e-17"},
    {0x1.c779a43cde95cp-54, "9.87654321e-17"},
    {0x1.cd2b297d889bcp-54, "1e-16"},
    {0x1.1cac06a60b1d9p-50, "9.87654321e-16"},
    {0x1.203af9ee75616p-50, "1e-15"},
    {0x1.63d7084f8de50p-47, "9.87654321e-15"},
    {0x1.6849b86a12b9bp-47, "1e-14"},
    {0x1.bcccca63715e4p-44, "9.87654321e-14"},
    {0x1.c25c268497682p-44, "1e-13"},
    {0x1.15fffe7e26daep-40, "9.87654321e-13"},
    {0x1.19799812dea11p-40, "1e-12"},
    {0x1.5b7ffe1db091ap-37, "9.87654321e-12"},
    {0x1.5fd7fe1796495p-37, "1e-11"},
    {0x1.b25ffda51cb60p-34, "9.87654321e-11"},
    {0x1.b7cdfd9d7bdbbp-34, "1e-10"},
    {0x1.0f7bfe8731f1cp-30, "9.87654321e-10"},
    {0x1.12e0be826d695p-30, "1e-09"},
    {0x1.535afe28fe6e3p-27, "9.87654321e-09"},
    {0x1.5798ee2308c3ap-27, "1e-08"},
    {0x1.a831bdb33e09cp-24, "9.87654321e-08"},
    {0x1.091f169006c62p-20, "9.87654321e-07"},
    {0x1.4b66dc340877ap-17, "0.00000987654321"},
    {0x1.9e4093410a958p-14, "0.0000987654321"},
    {0x1.02e85c08a69d7p-10, "0.000987654321"},
    {0x1.43a2730ad044dp-7, "0.00987654321"},
    {0x1.948b0fcd84560p-4, "0.0987654321"},
    {0x1.f9add3c0e56b8p-1, "0.987654321"},
    {0x1.3c0ca4588f633p+3, "9.87654321"},
    {0x1.4000000000000p+3, "10"},
    {0x1.8b0fcd6eb33c0p+6, "98.7654321"},
    {0x1.edd3c0ca600b0p+9, "987.654321"},
    {0x1.f400000000000p+9, "1000"},
    {0x1.34a4587e7c06ep+13, "9876.54321"},
    {0x1.3880000000000p+13, "10000"},
    {0x1.81cd6e9e1b08ap+16, "98765.4321"},
    {0x1.86a0000000000p+16, "100000"},
    {0x1.e240ca45a1cacp+19, "987654.321"},
    {0x1.e848000000000p+19, "1000000"},
    {0x1.2d687e6b851ecp+23, "9876543.21"},
    {0x1.312d000000000p+23, "10000000"},
    {0x1.78c29e0666666p+26, "98765432.1"},
    {0x1.7d78400000000p+26, "100000000"},
    {0x1.d6f3458800000p+29, "987654321"},
    {0x1.dcd6500000000p+29, "1000000000"},
    {0x1.26580b7500000p+33, "9876543210"},
    {0x1.2a05f20000000p+33, "10000000000"},
    {0x1.6fee0e5240000p+36, "98765432100"},
    {0x1.74876e8000000p+36, "100000000000"},
    {0x1.cbe991e6d0000p+39, "987654321000"},
    {0x1.d1a94a2000000p+39, "1000000000000"},
    {0x1.1f71fb3042000p+43, "9876543210000"},
    {0x1.2309ce5400000p+43, "10000000000000"},
    {0x1.674e79fc52800p+46, "98765432100000"},
    {0x1.6bcc41e900000p+46, "100000000000000"},
    {0x1.c122187b67200p+49, "987654321000000"},
    {0x1.18b54f4d20740p+53, "9876543210000000"},
    {0x1.5ee2a32068910p+56, "98765432100000000"},
    {0x1.b69b4be882b54p+59, "987654321000000000"},
    {0x1.bc16d674ec800p+59, "1000000000000000000"},
    {0x1.12210f7151b14p+63, "9876543210000000000"},
    {0x1.158e460913d00p+63, "10000000000000000000"},
    {0x1.56a9534da61dap+66, "98765432100000000000"},
    {0x1.ac53a8210fa50p+69, "987654321000000000000"},
    {0x1.0bb44914a9c72p+73, "9.87654321e+21"},
    {0x1.4ea15b59d438fp+76, "9.87654321e+22"},
    {0x1.a249b23049472p+79, "9.87654321e+23"},
    {0x1.a784379d99db4p+79, "1e+24"},
    {0x1.056e0f5e2dcc7p+83, "9.87654321e+24"},
    {0x1.08b2a2c280291p+83, "1e+25"},
    {0x1.46c99335b93f9p+86, "9.87654321e+25"},
    {-0x1.74de452e6b438p+811, "-1.989032661366619e+244"},
    {0x1.3270e269e0d37p+594, "7.761117632285041e+178"},
    {0x1.c7fd0a6a3a450p-826, "3.980498358697587e-249"},
    {-0x1.f0824128b2f33p+292, "-1.5432835417340557e+88"},
    {0x1.8e811892f902bp-638, "1.3647584518757569e-192"},
    {-0x1.1985d5d9dc9f8p-684, "-1.3701135617873088e-206"},
    {-0x1.25d940ed90475p+655, "-1.7160537630466207e+197"},
    {0x1.675cc81e74ef5p-144, "6.294675241195386e-44"},
    {0x1.0a35a099950d8p-671, "1.0613447212142254e-202"},
    {0x1.d549b6f03675ap+689, "4.708325160387546e+207"},
    {0x1.c172411e20b8fp-38, "6.387016158513563e-12"},
    {-0x1.16ece1738f7d9p-814, "-9.973130378568733e-246"},
    {0x1.1ddb66cad4a26p-781, "8.779753225680271e-236"},
    {-0x1.192cfd3ac94afp-755, "-5.795503248498993e-228"},
    {-0x1.c105d1fb17c23p+809, "-5.988180159386011e+243"},
    {-0x1.0b33839263059p-488, "-1.306052388527796e-147"},
    {-0x1.f48f1a09f76b5p-684, "-2.436117699484841e-206"},
    {0x1.630f1f29d0da9p-770, "2.233386999150174e-232"},
    {-0x1.60af593bd04cfp-673, "-3.51527970626667e-203"},
    {0x1.1e29c658cda14p-820, "1.5987381841032883e-247"},
    {0x1.8d190f9ebdaccp-118, "4.6678633181812096e-36"},
    {-0x1.1973e0becd7b0p-791, "-8.441872792105456e-239"},
    {0x1.7beaddbc496cbp-478, "1.9015657400796622e-144"},
    {0x1.cb2424a23d596p+693, "7.370437700706684e+208"},
    {-0x1.a63ec24ede6a4p-857, "-1.7163996725272777e-258"},
    {-0x1.766581e27a1c0p-733, "-3.2367190832119987e-221"},
    {-0x1.d05584ef8aa38p-777, "-2.2818334634712625e-234"},
    {-0x1.7ba94d0eda82fp-278, "-3.0536383926309363e-84"},
    {0x1.1dbe22e44158bp-601, "1.3449551894627777e-181"},
    {-0x1.a736994e3bf91p-732, "-7.317495976062606e-221"},
    {0x1.850c5a38fd547p-254, "5.249822308814304e-77"},
    {0x1.135d25f557203p-624, "1.5450754142984396e-188"},
    {-0x1.ce4228c38fb29p-155, "-3.953625698224792e-47"},
    {-0x1.a70c31012f037p-760, "-2.72491267476498e-229"},
    {-0x1.769b10f4205b4p-536, "-6.505141861548772e-162"},
    {0x1.5052434b9b5dfp+1010, "1.441484839555994e+304"},
    {-0x1.ed162ae2eb154p-894, "-1.4583679262758548e-269"},
    {-0x1.877186d76b07ep+112, "-7.939416668807721e+33"},
    {0x1.1af10506bf2efp+884, "1.4255183989699612e+266"},
    {-0x1.6a78795e761d1p+711, "-1.525315701232403e+214"},
    {0x1.0a9587403e430p+458, "7.750545741548908e+137"},
    {0x1.8e2774cbd87adp-6, "0.024301399287089676"},
    {0x1.5319acb5c7427p-287, "5.326960081783017e-87"},
    {-0x1.2ea20b2f14c94p+123, "-1.2570882301712172e+37"},
    {0x1.4733f3e7d1bfbp-688, "9.952684009002448e-208"},
    {0x1.d2055930d6eafp+206, "1.8721667527122837e+62"},
    {0x1.ff20686734721p+1004, "3.422978398947072e+302"},
    {0x1.e05cde00902c7p+383, "3.6967297937384553e+115"},
    {0x1.6cc3ababced20p+815, "3.113284956169447e+245"},
    {-0x1.4bcfc49b64a08p-577, "-2.6202582260546103e-174"},
    {0x1.d4acefaecbd38p-724, "2.0745096302730225e-218"},
    {-0x1.e07bc1e398f10p-975, "-5.877500503097409e-294"},
    {0x1.af4d46b0a18e8p-348, "2.938345597354166e-105"},
    {0x1.0f82ec1d3fcffp+378, "6.529598674765832e+113"},
    {-0x1.acbe226e87555p+751, "-1.9837344250050814e+226"},
    {0x1.46c697d2caf82p+704, "1.0743030475716402e+212"},
    {-0x1.6e1f40a097c97p+869, "-5.629271400715247e+261"},
    {0x1.eef86ab1031d0p-706, "5.743310614918485e-213"},
    {-0x1.e0d7ac3baea9ep-786, "-4.61515470702556e-237"},
    {-0x1.2135e92b1d3f2p+161, "-3.302201168194502e+48"},
    {0x1.777a51e04b4e8p+9, "750.9556236617764"},
    {-0x1.748145fef82b4p+8, "-372.5049743038064"},
    {0x1.86973a3f8b6a8p+8, "390.59073254731857"},
    {0x1.797ac110565f8p+7, "188.73975421003684"},
    {0x1.3f94b06e722c0p+7, "159.79040856498432"},
    {-0x1.5e5b7b433cb00p+6, "-87.58933739717395"},
    {0x1.53f7c076b3124p+9, "679.9355610250827"},
    {0x1.bcae5c3fbe0e8p+9, "889.3621902158748"},
    {-0x1.9e6d35bdea770p+5, "-51.8033251607111"},
    {0x1.484dede03fff8p+8, "328.30441094934895"},
    {-0x1.b754a0649ae6cp+9, "-878.6611448055605"},
    {0x1.92fbea3766df4p+8, "402.98404260884786"},
    {0x1.2641f9387c8ecp+8, "294.2577090553375"},
    {0x1.ed188f7d2796ep+9, "986.1918789332683"},
    {0x1.41ecbed0b4812p+9, "643.8495732194299"},
    {-0x1.aecf166ad7d24p+8, "-430.80893581170153"},
    {-0x1.c8d5901c7ad7cp+7, "-228.4171151065783"},
    {0x1.514e30c6c0560p+8, "337.30543176837637"},
    {-0x1.dd6fe3f26b3f0p+9, "-954.8741438888228"},
    {-0x1.32700dbc89308p+6, "-76.60942740046823"},
    {-0x1.4bf39d70a2932p+9, "-663.9032421869108"},
    {-0x1.7ee77a0349d30p+9, "-765.8084110365362"},
    {-0x1.b90bab2cb95a0p+9, "-882.0911613373792"},
    {0x1.0c3ba521edd26p+9, "536.4659769450416"},
    {-0x1.72a8e735b45f4p+9, "-741.3195559626315"},
    {-0x1.f8c53484868c8p+8, "-504.77033260617145"},
    {-0x1.b433810597860p+7, "-218.1005937335458"},
    {0x1.736c067f1036cp+9, "742.8439482525987"},
    {-0x1.a36b2fd834477p+9, "-838.8373975997227"},
    {-0x1.968033ee5b130p+6, "-101.62519810133813"},
};
const size_t nfloat_cases = sizeof(float_cases) / sizeof(float_cases[0]);

void test_format_float_table(void **state)
{
    (void)state;
    char buf[PVM_FLOAT_BUFSIZE];
    for (size_t i = 0; i < nfloat_cases; i++) {
        size_t n = pvm_format_float(buf, float_cases[i].v);
        if (strcmp(buf, float_cases[i].want) != 0)
            fail_msg("%a (%.17g): got %s, want %s", float_cases[i].v,
                     float_cases[i].v, buf, float_cases[i].want);
        assert_int_equal(n, strlen(buf));
        assert_true(n < PVM_FLOAT_BUFSIZE);
    }
}

/* Significant digits of a pvm_format_float result (sign, point, leading
 * and trailing zeros and exponent dropped). */
static size_t sig_digits(const char *s)
{
    char d[40];
    size_t k = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9' && (k > 0 || *s != '0'))
            d[k++] = *s;
    while (k > 0 && d[k - 1] == '0')
        k--;
    return k;
}

/* True when some decimal with p significant digits reads back as v: the
 * correctly rounded one or one of its neighbours. */
static bool round_trips_at(double v, int p)
{
    char tmp[48];
    snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
    if (strtod(tmp, NULL) == v)
        return true;
    char digits[24];
    size_t k = 0;
    const char *q = tmp;
    for (; *q != 'e'; q++)
        if (*q >= '0' && *q <= '9')
            digits[k++] = *q;
    digits[k] = '\0';
    int x = atoi(q + 1);
    long long d = atoll(digits);
    for (int delta = -1; delta <= 1; delta += 2) {
        snprintf(tmp, sizeof(tmp), "%llde%d", d + delta, x - p + 1);
        if (strtod(tmp, NULL) == v)
            return true;
    }
    return false;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* 100k random doubles: the text reads back exactly, no shorter digit
 * string does, and the 'e' form is used exactly outside [1e-6, 1e21). */
void test_format_float_random(void **state)
{
    (void)state;
    char buf[PVM_FLOAT_BUFSIZE];
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = rng();
        double v;
        if (i % 4 == 0) { /* values of everyday magnitude too */
            v = (double)(int64_t)(bits >> 11) / (double)(1ULL << (bits % 60));
        } else {
            if (i % 50 == 1) /* subnormals, of every size */
                bits = (bits & 0x8000000000000000ULL) |
                       ((bits & 0x000FFFFFFFFFFFFFULL) >> (bits % 52));
            memcpy(&v, &bits, sizeof(v));
        }
        if (isnan(v) || isinf(v))
            continue;
        size_t n = pvm_format_float(buf, v);
        assert_int_equal(n, strlen(buf));
        char *end;
        double back = strtod(buf, &end);
        if (back != v || *end)
            fail_msg("%a: %s reads back as %a", v, buf, back);
        double a = fabs(v);
        bool e_form = strchr(buf, 'e') != NULL;
        assert_int_equal(e_form, a != 0 && (a < 1e-6 || a >= 1e21));
        size_t k = sig_digits(buf);
        if (k > 1 && round_trips_at(a, (int)k - 1))
            fail_msg("%a: %s is not the shortest", v, buf);
    }
}

void test_format_timestamp(void **state)
{
    (void)state;
    static const struct {
        int64_t ms;
        const char *want;
    } cases[] = {
        {0, "0"},
        {4000, "4"},
        {1767355200000, "1767355200"},
        {1767355200500, "1767355200.500"},
        {1732480212345, "1732480212.345"},
        {5, "0.005"},
        {50, "0.050"},
        {999, "0.999"},
        {-1500, "-1.500"},
        {-1000, "-1"},
        {-5, "-0.005"},
        {INT64_MAX, "9223372036854775.807"},
        {INT64_MIN, "-9223372036854775.808"},
    };
    char buf[PVM_FLOAT_BUFSIZE];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = pvm_format_timestamp(buf, cases[i].ms);
        assert_string_equal(buf, cases[i].want);
        assert_int_equal(n, strlen(cases[i].want));
    }
}

/* ---- fast formatters against the reference (tests/unit/json_ref.c) ---- */

/* Compares pvm_format_float with the reference on v; prints the first few
 * differences and returns 1 for a mismatch, else 0. */
static int float_mismatch(double v)
{
    static int shown;
    char fast[PVM_FLOAT_BUFSIZE], ref[PVM_FLOAT_BUFSIZE];
    memset(fast, 'x', sizeof(fast));
    size_t n = pvm_format_float(fast, v);
    size_t m = pvm_ref_format_float(ref, v);
    if (n == m && n < PVM_FLOAT_BUFSIZE && fast[n] == '\0' &&
        strcmp(fast, ref) == 0)
        return 0;
    if (shown++ < 10)
        print_error("%a: fast \"%.*s\" (%zu), reference \"%s\"\n", v,
                    PVM_FLOAT_BUFSIZE - 1, fast, n, ref);
    return 1;
}

/* v and -v. */
static int float_mismatch_pm(double v)
{
    return float_mismatch(v) + float_mismatch(-v);
}

static double from_bits(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

/* A double up to k steps (in units in the last place) from finite v >= 0,
 * never below 0 nor past the largest double. */
static double near(double v, uint64_t r, int k)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    int64_t delta = (int64_t)(r % (uint64_t)(2 * k + 1)) - k;
    if (delta < 0 && (uint64_t)-delta > bits)
        delta = 0;
    uint64_t moved = bits + (uint64_t)delta;
    return moved >= 0x7FF0000000000000ULL ? v : from_bits(moved);
}

/* v and the doubles up to k steps away on either side. */
static int float_mismatch_around(double v, int k)
{
    int bad = float_mismatch_pm(v);
    double up = v, down = v;
    for (int i = 0; i < k; i++) {
        up = nextafter(up, INFINITY);
        down = nextafter(down, -INFINITY);
        bad += float_mismatch_pm(up) + float_mismatch_pm(down);
    }
    return bad;
}

/* Every value of the table, and its negation. */
void test_format_float_vs_reference_table(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < sizeof(float_cases) / sizeof(float_cases[0]); i++)
        bad += float_mismatch_pm(float_cases[i].v);
    assert_int_equal(bad, 0);
}

/* Edge cases and their neighbours: zeros, the subnormal range and its top,
 * the largest doubles, 2^53 +- 1, decimals that do not round-trip in
 * fewer than 17 digits, 1e23, the 1e-6 and 1e21 switch points, 2^63 and
 * 2^64; then every power of two (the lower neighbour is closer) and every
 * power of ten, with neighbours. */
void test_format_float_vs_reference_edges(void **state)
{
    (void)state;
    static const double edges[] = {
        0.0,
        0x0.0000000000001p-1022,
        0x0.0000000000002p-1022,
        0x0.fffffffffffffp-1022,
        0x1p-1022,
        0x1.0000000000001p-1022,
        0x1.fffffffffffffp+1023,
        0x1.ffffffffffffep+1023,
        0x1p+1023,
        0x1p+53,
        0x1p+52,
        9007199254740993.0,
        9007199254740991.0,
        0x1.0000000000001p+53,
        1e23,
        8.41e21,
        1e-6,
        1e21,
        1e22,
        1e-5,
        1e-7,
        1e15,
        1e16,
        1e17,
        0x1p+63,
        0x1p+64,
        0.1,
        0.2,
        0.3,
        1.0 / 3,
        2.0 / 3,
        123456789012345678.0,
        1e308,
        1e-308,
        1e-323,
        1.7976931348623157e308,
        2.2250738585072011e-308,
        5e-7,
        9.5e-7,
        999999999999999999999.0,
        1e20,
        0.5,
        1.5,
        2.5,
        1e-300,
        1e300,
        5.0e-324,
        4.35,
        123.456,
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
        bad += float_mismatch_around(edges[i], 64);
    for (int e = -1074; e <= 1023; e++)
        bad += float_mismatch_around(ldexp(1.0, e), 2);
    for (int e = -324; e <= 308; e++) {
        char s[16];
        snprintf(s, sizeof(s), "1e%d", e);
        bad += float_mismatch_around(strtod(s, NULL), 2);
    }
    bad += float_mismatch(NAN) + float_mismatch(-NAN) +
           float_mismatch(INFINITY) + float_mismatch(-INFINITY) +
           float_mismatch(-0.0);
    assert_int_equal(bad, 0);
}

/* A decimal: up to 17 random digits times 10^-n, correctly rounded. */
static double random_decimal(uint64_t r)
{
    char s[48];
    int digits = (int)(r % 17) + 1;
    uint64_t k = (r >> 8) % 100000000000000000ULL;
    for (int i = digits; i < 17; i++)
        k /= 10;
    snprintf(s, sizeof(s), "%llue-%d", (unsigned long long)k,
             (int)((r >> 5) % 23));
    return strtod(s, NULL);
}

/* The example plugin's waves at a random time. */
static double random_wave(uint64_t r)
{
    static const double amplitudes[] = {1, 5, 10};
    double t = (double)(r % 600000) / 10000.0; /* [0, 60) s */
    double a = amplitudes[(r >> 32) % 3];
    switch ((r >> 40) % 3) {
    case 0: return sin(t * 2 * M_PI / 60) * a;
    case 1: return cos(t * 2 * M_PI / 60) * a;
    default: return t / 60 * a;
    }
}

/* A random finite double, of kind i % 9: random bits; decimals k / 10^n;
 * integers (also past 2^53); near a power of ten; subnormals; near the
 * 1e-6 switch point; near 1e21; near a power of two; the example waves. */
static double random_double(int i)
{
    uint64_t r = rng();
    char s[16];
    switch (i % 9) {
    case 0: return from_bits(r % 0x7FF0000000000000ULL);
    case 1: return random_decimal(r);
    case 2: return (double)(r >> (r % 63 + 1)) * (r & 1 ? 1 : -1);
    case 3:
        snprintf(s, sizeof(s), "1e%d", (int)(r % 633) - 324);
        return near(strtod(s, NULL), r >> 16, 1000);
    case 4: return from_bits((r & 0x000FFFFFFFFFFFFFULL) >> (r >> 58));
    case 5: return near(1e-6, r, 100000);
    case 6: return near(1e21, r, 100000);
    case 7: return near(ldexp(1.0, (int)(r % 2098) - 1074), r >> 16, 3);
    default: return random_wave(r);
    }
}

/* 2,000,000 random doubles of every kind above, with random signs. */
void test_format_float_vs_reference_random(void **state)
{
    (void)state;
    int bad = 0;
    for (int i = 0; i < 2000000; i++) {
        double v = random_double(i);
        bad += float_mismatch(rng() & 1 ? -v : v);
    }
    assert_int_equal(bad, 0);
}

/* Timestamps: edges and 1,000,000 random ones (full range and near now). */
void test_format_timestamp_vs_reference(void **state)
{
    (void)state;
    static const int64_t edges[] = {
        0,     1,     -1,        999,       1000,          1001,         -999,
        -1000, -1001, INT64_MAX, INT64_MIN, INT64_MIN + 1, 1767355200000};
    int bad = 0;
    for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]) + 1000000; i++) {
        int64_t ms = i < sizeof(edges) / sizeof(edges[0]) ? edges[i]
                     : i % 2                              ? (int64_t)rng()
                             : 1767355200000 + (int64_t)(rng() % 100000000) -
                                   50000000;
        char fast[PVM_FLOAT_BUFSIZE], ref[PVM_FLOAT_BUFSIZE];
        size_t n = pvm_format_timestamp(fast, ms);
        size_t m = pvm_ref_format_timestamp(ref, ms);
        if (n != m || strcmp(fast, ref) != 0) {
            if (bad++ < 10)
                print_error("%lld: fast \"%s\", reference \"%s\"\n",
                            (long long)ms, fast, ref);
        }
    }
    assert_int_equal(bad, 0);
}
