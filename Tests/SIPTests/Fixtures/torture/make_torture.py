#!/usr/bin/env python3
"""Regenerate the RFC 4475 ("SIP Torture Test Messages") fixtures.

Writes one <name>.sip file per message of RFC 4475 section 3 into the
directory holding this script, plus expected.json.

The messages are kept below as data in the RFC's own markup:

  * every line break in a message is CRLF on the wire (written here as
    a plain newline and converted);
  * <allOneLine> ... </allOneLine>  : the enclosed lines are joined into
    one line with nothing between them;
  * <repeat count=N>X</repeat>      : X repeated N times;
  * <hex>...</hex>                  : raw octets (whitespace inside is
    ignored). Decoded *after* the CRLF conversion, so binary octets such
    as 0A/0D/00 stay exactly as given.

The bytes follow the RFC's bit-exact archive (Appendix A): e.g. `dblreq`
and `multi01` end in an extra CRLF, `baddn` has no empty line after its
last header field, `trws` has two SP after "SIP/2.0".

Run:  python3 make_torture.py          (writes files, runs self-checks)
"""

import hashlib
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------
# Message text (RFC 4475 section 3), in RFC section order.
# Each text starts after the first newline of the literal.
# --------------------------------------------------------------------------

SDP = r'''v=0
o=mhandley 29739 7272939 IN IP4 {ip}
s=-
c=IN IP4 {ip2}
t=0 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
'''


def sdp(ip, ip2=None):
    return SDP.format(ip=ip, ip2=ip2 or ip)


MESSAGES = {}

# 3.1.1.1
MESSAGES['wsinv'] = r'''
INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

''' + sdp('192.0.2.3', '192.0.2.4')

# 3.1.1.2
MESSAGES['intmeth'] = r'''
<allOneLine>
!interesting-Method0123456789_*+`.%indeed'~
 sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*
:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com
 SIP/2.0
</allOneLine>
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~
<allOneLine>
To: "BEL:\<hex>07</hex> NUL:\<hex>00</hex> DEL:\<hex>7F</hex>"
 <sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*@example.com>
</allOneLine>
<allOneLine>
From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>
;fromParam''~+*_!.-%=
"<hex>D180D0B0D0B1D0BED182D0B0D18ED189D0B8D0B9</hex>"
;tag=_token~1'+`*%!-.
</allOneLine>
Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{
CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~
Max-Forwards: 255
extensionHeader-!.%*+_`'~:<hex>EFBBBFE5A4A7E5819CE99BBB</hex>
Content-Length: 0

'''

# 3.1.1.3
MESSAGES['esc01'] = r'''
INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150

''' + sdp('192.0.2.1')

# 3.1.1.4
MESSAGES['escnull'] = r'''
REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

'''

# 3.1.1.5
MESSAGES['esc02'] = r'''
RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

'''

# 3.1.1.6
MESSAGES['lwsdisp'] = r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

'''

# 3.1.1.7
MESSAGES['longreq'] = r'''
INVITE sip:user@example.com SIP/2.0
<allOneLine>
To: "I have a user name of <repeat count=10>extreme</repeat> proportion"
<sip:user@example.com:6000;
unknownparam1=very<repeat count=20>long</repeat>value;
longparam<repeat count=25>name</repeat>=shortvalue;
very<repeat count=25>long</repeat>ParameterNameWithNoValue>
</allOneLine>
<allOneLine>
F: sip:<repeat count=5>amazinglylongcallername</repeat>@example.net
;tag=12<repeat count=50>982</repeat>424
;unknownheaderparam<repeat count=20>name</repeat>=
unknowheaderparam<repeat count=15>value</repeat>
;unknownValueless<repeat count=10>paramname</repeat>
</allOneLine>
Call-ID: longreq.one<repeat count=20>really</repeat>longcallid
CSeq: 3882340 INVITE
<allOneLine>
Unknown-<repeat count=20>Long</repeat>-Name:<hex>20</hex>
unknown-<repeat count=20>long</repeat>-value;<hex>20</hex>
unknown-<repeat count=20>long</repeat>-parameter-name =<hex>20</hex>
unknown-<repeat count=20>long</repeat>-parameter-value
</allOneLine>
Via: SIP/2.0/TCP sip33.example.com
v: SIP/2.0/TCP sip32.example.com
V: SIP/2.0/TCP sip31.example.com
Via: SIP/2.0/TCP sip30.example.com
ViA: SIP/2.0/TCP sip29.example.com
VIa: SIP/2.0/TCP sip28.example.com
VIA: SIP/2.0/TCP sip27.example.com
via: SIP/2.0/TCP sip26.example.com
viA: SIP/2.0/TCP sip25.example.com
vIa: SIP/2.0/TCP sip24.example.com
vIA: SIP/2.0/TCP sip23.example.com
V :  SIP/2.0/TCP sip22.example.com
v :  SIP/2.0/TCP sip21.example.com
V  : SIP/2.0/TCP sip20.example.com
v  : SIP/2.0/TCP sip19.example.com
Via : SIP/2.0/TCP sip18.example.com
Via  : SIP/2.0/TCP sip17.example.com
Via: SIP/2.0/TCP sip16.example.com
Via: SIP/2.0/TCP sip15.example.com
Via: SIP/2.0/TCP sip14.example.com
Via: SIP/2.0/TCP sip13.example.com
Via: SIP/2.0/TCP sip12.example.com
Via: SIP/2.0/TCP sip11.example.com
Via: SIP/2.0/TCP sip10.example.com
Via: SIP/2.0/TCP sip9.example.com
Via: SIP/2.0/TCP sip8.example.com
Via: SIP/2.0/TCP sip7.example.com
Via: SIP/2.0/TCP sip6.example.com
Via: SIP/2.0/TCP sip5.example.com
Via: SIP/2.0/TCP sip4.example.com
Via: SIP/2.0/TCP sip3.example.com
Via: SIP/2.0/TCP sip2.example.com
Via: SIP/2.0/TCP sip1.example.com
<allOneLine>
Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;
branch=very<repeat count=50>long</repeat>branchvalue
</allOneLine>
Max-Forwards: 70
<allOneLine>
Contact: <sip:
<repeat count=5>amazinglylongcallername</repeat>
@host5.example.net>
</allOneLine>
Content-Type: application/sdp
l: 150

''' + sdp('192.0.2.1')

# 3.1.1.8 (the REGISTER; everything after its empty line -- a CRLF and an
# INVITE-looking request -- is trailing datagram noise)
MESSAGES['dblreq'] = r'''
REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0


INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: 150

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.15
s=-
c=IN IP4 192.0.2.15
t=0 0
m=audio 49217 RTP/AVP 0 12
m =video 3227 RTP/AVP 31
a=rtpmap:31 LPC

'''

# 3.1.1.9
MESSAGES['semiuri'] = r'''
OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

'''

# 3.1.1.10
MESSAGES['transports'] = r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

'''

# 3.1.1.11 (second body part is a binary DER blob; 0A/0D/00 inside it
# are data, not line ends)
MESSAGES['mpart01'] = r'''
MESSAGE sip:kumiko@example.org SIP/2.0
<allOneLine>
Via: SIP/2.0/UDP 127.0.0.1:5070
;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
</allOneLine>
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
<allOneLine>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+813gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=
</allOneLine>
Contact: <sip:fluffy@127.0.0.1:5070>
To: <sip:kumiko@example.org>
From: <sip:fluffy@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=7a9cbec02ceef655
Date: Sat, 15 Oct 2005 04:44:56 GMT
User-Agent: SIPimp.org/0.2.5 (curses)
Content-Length: 553

--7a9cbec02ceef655
Content-Type: text/plain
Content-Transfer-Encoding: binary

Hello
--7a9cbec02ceef655
Content-Type: application/octet-stream
Content-Transfer-Encoding: binary

<hex>3082015206092A864886F70D010702A08201433082013F02
01013109300706052B0E03021A300B06092A864886F70D010701318201203082
011C020101307C3070310B300906035504061302555331133011060355040813
0A43616C69666F726E69613111300F0603550407130853616E204A6F7365310E
300C060355040A1305736970697431293027060355040B132053697069742054
65737420436572746966696361746520417574686F7269747902080195007102
330113300706052B0E03021A300D06092A864886F70D01010105000481808EF4
66F948F0522DD2E5978E9D95AAE9F2FE15A06659716292E8DA2AA8D8350A68CE
FFAE3CBD2BFF1675DDD5648E593DD64728F26220F7E941749E330D9A15EDABDB
93D10C42102E7B7289D29CC0C9AE2EFBC7C0CFF9172F3B027E4FC027E1546DE4
B6AA3ABB3E66CCCB5DD6C64B8383149CB8E6FF182D944FE57B65BC99D005</hex>
--7a9cbec02ceef655--
'''

# 3.1.1.12
MESSAGES['unreason'] = r'''
<allOneLine>
SIP/2.0 200 = 2**3 * 5**2 <hex>D0BDD0BE20D181D182D0BE20D0B4D0B5D0B2
D18FD0BDD0BED181D182D0BE20D0B4D0B5D0B2D18FD182D18C202D20D0BFD180D0BE
D181D182D0BED0B5</hex>
</allOneLine>
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>

''' + sdp('192.0.2.198')

# 3.1.1.13 (Reason-Phrase is empty: "100" is followed by one SP)
MESSAGES['noreason'] = r'''
SIP/2.0 100<hex>20</hex>
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

'''

# 3.1.2.1
MESSAGES['badinv01'] = r'''
INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 152
Content-Type: application/sdp

''' + sdp('192.0.2.15')

# 3.1.2.2
MESSAGES['clerr'] = r'''
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

''' + sdp('192.0.2.155')

# 3.1.2.3
MESSAGES['ncl'] = r'''
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

''' + sdp('192.0.2.53')

# 3.1.2.4
MESSAGES['scalar02'] = r'''
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1<repeat count=100>0</repeat>
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 0

'''

# 3.1.2.5
MESSAGES['scalarlg'] = r'''
SIP/2.0 503 Service Unavailable
<allOneLine>
Via: SIP/2.0/TCP host129.example.com
;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
</allOneLine>
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0

'''

# 3.1.2.6
MESSAGES['quotbal'] = r'''
INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: 152

''' + sdp('192.0.2.15')

SDP_T = r'''v=0
o=mhandley 29739 7272939 IN IP4 {ip}
s=-
c=IN IP4 {ip}
t=3149328700 0
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
'''

# 3.1.2.7
MESSAGES['ltgtruri'] = r'''
INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 159

''' + SDP_T.format(ip='192.0.2.5')

# 3.1.2.8
MESSAGES['lwsruri'] = r'''
INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 159

''' + SDP_T.format(ip='192.0.2.1')

# 3.1.2.9 (two SP between the Request-Line elements)
MESSAGES['lwsstart'] = r'''
INVITE<hex>2020</hex>sip:user@example.com<hex>2020</hex>SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150

''' + sdp('192.0.2.1')

# 3.1.2.10 (two SP after SIP/2.0; "examle" is the RFC's spelling)
MESSAGES['trws'] = r'''
OPTIONS sip:remote-target@example.com SIP/2.0<hex>2020</hex>
Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0

'''

# 3.1.2.11
MESSAGES['escruri'] = r'''
INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: 150

''' + sdp('192.0.2.1')

# 3.1.2.12
MESSAGES['baddate'] = r'''
INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150

''' + sdp('192.0.2.5')

# 3.1.2.13
MESSAGES['regbadct'] = r'''
REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0

'''

# 3.1.2.14
MESSAGES['badaspec'] = r'''
OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

'''

# 3.1.2.15 (the archive has no empty line after "l: 0")
MESSAGES['baddn'] = r'''
OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0
'''

# 3.1.2.16
MESSAGES['badvers'] = r'''
OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

'''

# 3.1.2.17
MESSAGES['mismatch01'] = r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

'''

# 3.1.2.18
MESSAGES['mismatch02'] = r'''
NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 138

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
c=IN IP4 192.0.2.1
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
'''

# 3.1.2.19
MESSAGES['bigcode'] = r'''
SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

'''

# 3.2.1
MESSAGES['badbranch'] = r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK
Accept: application/sdp
Call-ID: badbranch.sadonfo23i420jv0as0derf3j3n
CSeq: 8 OPTIONS
l: 0

'''

# 3.3.1
MESSAGES['insuf'] = r'''
INVITE sip:user@example.com SIP/2.0
CSeq: 193942 INVITE
Via: SIP/2.0/UDP 192.0.2.95;branch=z9hG4bKkdj.insuf
Content-Type: application/sdp
l: 152

''' + sdp('192.0.2.95')

# 3.3.2
MESSAGES['unkscm'] = r'''
OPTIONS nobodyKnowsThisScheme:totallyopaquecontent SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: unkscm.nasdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

'''

# 3.3.3
MESSAGES['novelsc'] = r'''
OPTIONS soap.beep://192.0.2.103:3002 SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=384
Max-Forwards: 3
Call-ID: novelsc.asdfasser0q239nwsdfasdkl34
CSeq: 3923423 OPTIONS
Via: SIP/2.0/TCP host9.example.com;branch=z9hG4bKkdjuw39234
Content-Length: 0

'''

# 3.3.4
MESSAGES['unksm2'] = r'''
REGISTER sip:example.com SIP/2.0
To: isbn:2983792873
From: <http://www.example.com>;tag=3234233
Call-ID: unksm2.daksdj@hyphenated-host.example.com
CSeq: 234902 REGISTER
Max-Forwards: 70
Via: SIP/2.0/UDP 192.0.2.21:5060;branch=z9hG4bKkdjuw
Contact: <name:John_Smith>
l: 0

'''

# 3.3.5
MESSAGES['bext01'] = r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.net;tag=242etr
Max-Forwards: 6
Call-ID: bext01.0ha0isndaksdj
Require: nothingSupportsThis, nothingSupportsThisEither
Proxy-Require: noProxiesSupportThis, norDoAnyProxiesSupportThis
CSeq: 8 OPTIONS
Via: SIP/2.0/TLS fold-and-staple.example.com;branch=z9hG4bKkdjuw
Content-Length: 0

'''

# 3.3.6
MESSAGES['invut'] = r'''
INVITE sip:user@example.com SIP/2.0
Contact: <sip:caller@host5.example.net>
To: sip:j.user@example.com
From: sip:caller@example.net;tag=8392034
Max-Forwards: 70
Call-ID: invut.0ha0isndaksdjadsfij34n23d
CSeq: 235448 INVITE
Via: SIP/2.0/UDP somehost.example.com;branch=z9hG4bKkdjuw
Content-Type: application/unknownformat
Content-Length: 40

<audio>
 <pcmu port="443"/>
</audio>
'''

# 3.3.7
MESSAGES['regaut01'] = r'''
REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=87321hj23128
Max-Forwards: 8
Call-ID: regaut01.0ha0isndaksdj
CSeq: 9338 REGISTER
Via: SIP/2.0/TCP 192.0.2.253;branch=z9hG4bKkdjuw
Authorization: NoOneKnowsThisScheme opaque-data=here
Content-Length:0

'''

# 3.3.8 (body is followed by one extra CRLF, counted in l: 154)
MESSAGES['multi01'] = r'''
INVITE sip:user@company.com SIP/2.0
Contact: <sip:caller@host25.example.net>
Via: SIP/2.0/UDP 192.0.2.25;branch=z9hG4bKkdjuw
Max-Forwards: 70
CSeq: 5 INVITE
Call-ID: multi01.98asdh@192.0.2.1
CSeq: 59 INVITE
Call-ID: multi01.98asdh@192.0.2.2
From: sip:caller@example.com;tag=3413415
To: sip:user@example.com
To: sip:other@example.net
From: sip:caller@example.net;tag=2923420123
Content-Type: application/sdp
l: 154
Contact: <sip:caller@host36.example.net>
Max-Forwards: 5

''' + sdp('192.0.2.25') + '\n'

# 3.3.9
MESSAGES['mcl01'] = r'''
OPTIONS sip:user@example.com SIP/2.0
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bK293423
To: sip:user@example.com
From: sip:other@example.net;tag=3923942
Call-ID: mcl01.fhn2323orihawfdoa3o4r52o3irsdf
CSeq: 15932 OPTIONS
Content-Length: 13
Max-Forwards: 60
Content-Length: 5
Content-Type: text/plain

There's no way to know how many octets are supposed to be here.

'''

# 3.3.10
MESSAGES['bcast'] = r'''
SIP/2.0 200 OK
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Via: SIP/2.0/UDP 255.255.255.255;branch=z9hG4bK1saber23
Call-ID: bcast.0384840201234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host28.example.com>

''' + sdp('192.0.2.198')

# 3.3.11
MESSAGES['zeromf'] = r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=3ghsd41
Call-ID: zeromf.jfasdlfnm2o2l43r5u0asdfas
CSeq: 39234321 OPTIONS
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw2349i
Max-Forwards: 0
Content-Length: 0

'''

# 3.3.12
MESSAGES['cparam01'] = r'''
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=DkfVgjkrtMwaerKKpe
To: sip:watson@example.com
Call-ID: cparam01.70710@saturn.example.com
CSeq: 2 REGISTER
Contact: sip:+19725552222@gw1.example.net;unknownparam
l: 0

'''

# 3.3.13
MESSAGES['cparam02'] = r'''
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/UDP saturn.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards: 70
From: sip:watson@example.com;tag=838293
To: sip:watson@example.com
Call-ID: cparam02.70710@saturn.example.com
CSeq: 3 REGISTER
Contact: <sip:+19725552222@gw1.example.net;unknownparam>
l: 0

'''

# 3.3.14
MESSAGES['regescrt'] = r'''
REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=8
Max-Forwards: 70
Call-ID: regescrt.k345asrl3fdbv@192.0.2.1
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
M: <sip:user@example.com?Route=%3Csip:sip.example.com%3E>
L:0

'''

# 3.3.15
MESSAGES['sdp01'] = r'''
INVITE sip:user@example.com SIP/2.0
To: sip:j_user@example.com
Contact: <sip:caller@host15.example.net>
From: sip:caller@example.net;tag=234
Max-Forwards: 5
Call-ID: sdp01.ndaksdj9342dasdd
Accept: text/nobodyKnowsThis
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw
Content-Length: 150
Content-Type: application/sdp

''' + sdp('192.0.2.5')

# 3.4.1 (no Content-Length: the body is the rest of the datagram)
MESSAGES['inv2543'] = r'''
INVITE sip:UserB@example.com SIP/2.0
Via: SIP/2.0/UDP iftgw.example.com
From: <sip:+13035551111@ift.client.example.net;user=phone>
Record-Route: <sip:UserB@example.com;maddr=ss1.example.com>
To: sip:+16505552222@ss1.example.net;user=phone
Call-ID: inv2543.1717@ift.client.example.com
CSeq: 56 INVITE
Content-Type: application/sdp

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.5
s=-
c=IN IP4 192.0.2.5
t=0 0
m=audio 49217 RTP/AVP 0
'''

# --------------------------------------------------------------------------
# Markup expansion
# --------------------------------------------------------------------------


def expand(text):
    """RFC 4475 markup -> wire bytes."""
    assert text.startswith('\n'), 'message literal must start with a newline'
    text = text[1:]
    # <allOneLine>: join the enclosed lines with nothing in between.
    text = re.sub(r'<allOneLine>\n(.*?)\n</allOneLine>',
                  lambda m: m.group(1).replace('\n', ''), text, flags=re.S)
    # <repeat count=N>X</repeat>
    text = re.sub(r'<repeat count=(\d+)>(.*?)</repeat>',
                  lambda m: m.group(2) * int(m.group(1)), text, flags=re.S)
    assert '<allOneLine>' not in text and '<repeat' not in text
    data = text.replace('\n', '\r\n').encode('utf-8')
    # <hex>..</hex> last, so binary octets are not CRLF-converted.
    data = re.sub(rb'<hex>([0-9A-Fa-f\s]*)</hex>',
                  lambda m: bytes.fromhex(re.sub(rb'\s', b'', m.group(1)).decode()),
                  data)
    assert b'<hex>' not in data
    return data


# --------------------------------------------------------------------------
# Expectations
# --------------------------------------------------------------------------

T = 'title'


def req(method, ruri, callid, cseq_n, cseq_m, vias, cl):
    return dict(isRequest=True, method=method, status=None, requestURI=ruri,
                callID=callid, cseq={'number': cseq_n, 'method': cseq_m},
                vias=vias, contentLength=cl)


def rsp(status, callid, cseq_n, cseq_m, vias, cl):
    return dict(isRequest=False, method=None, status=status, requestURI=None,
                callID=callid, cseq={'number': cseq_n, 'method': cseq_m},
                vias=vias, contentLength=cl)


INTMETH = "!interesting-Method0123456789_*+`.%indeed'~"

# (name, section, title, kind, response, expect, parse-fields or None)
CASES = [
    ('wsinv', '3.1.1.1', 'A Short Tortuous INVITE', 'valid', None,
     'parse; treat as a well-formed request (folding, LWS, escaped quotes, '
     'empty Subject, unknown headers/params, leading zeros)',
     req('INVITE', 'sip:vivekg@chair-dnrc.example.com;unknownparam',
         'wsinv.ndaksdj@192.0.2.1', 9, 'INVITE', 3, 150)),
    ('intmeth', '3.1.1.2', 'Wide Range of Valid Characters', 'valid', 501,
     'parse; unknown method: a UAS responds 501 Not Implemented with Allow '
     '(a proxy forwards it, or 404 if the odd URI is not known)',
     req(INTMETH,
         "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,"
         "weird!*pas$wo~d_too.(doesn't-it)@example.com",
         "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{",
         139122385, INTMETH, 1, 0)),
    ('esc01', '3.1.1.3', 'Valid Use of the % Escaping Mechanism', 'valid', None,
     'parse; treat %HH in SIP-URI parts as the encoded character '
     '(never unescape recursively: value%41 stays value%41)',
     req('INVITE', 'sip:sips%3Auser%40example.com@example.net',
         'esc01.239409asdfakjkn23onasd0-3234', 234234, 'INVITE', 1, 150)),
    ('escnull', '3.1.1.4', 'Escaped Nulls in URIs', 'valid', None,
     'parse; %00 must not truncate the user part; registers two distinct contacts',
     req('REGISTER', 'sip:example.com',
         'escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd', 14398234, 'REGISTER', 1, 0)),
    ('esc02', '3.1.1.5', 'Use of % When It Is Not an Escape', 'valid', 501,
     'parse; RE%47IST%45R is an unknown method (not REGISTER), so a UAS '
     'responds 501; "%Z%45" is literal; C%6Fntact is an unknown header (2 Contacts, not 3)',
     req('RE%47IST%45R', 'sip:registrar.example.com',
         'esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf', 29344, 'RE%47IST%45R', 1, 0)),
    ('lwsdisp', '3.1.1.6', 'Message with No LWS between Display Name and <',
     'valid', None,
     'parse; From display name "caller" directly followed by <',
     req('OPTIONS', 'sip:user@example.com',
         'lwsdisp.1234abcd@funky.example.com', 60, 'OPTIONS', 1, 0)),
    ('longreq', '3.1.1.7', 'Long Values in Header Fields', 'valid', None,
     'parse; treat as valid (very long values, 34 Via values, compact/odd-case names)',
     req('INVITE', 'sip:user@example.com',
         'longreq.one' + 'really' * 20 + 'longcallid', 3882340, 'INVITE', 34, 150)),
    ('dblreq', '3.1.1.8', 'Extra Trailing Octets in a UDP Datagram', 'valid', None,
     'parse the REGISTER (Content-Length: 0) normally; the trailing '
     'INVITE-looking octets in the datagram are noise and must be ignored',
     req('REGISTER', 'sip:example.com',
         'dblreq.0ha0isndaksdj99sdfafnl3lk233412', 8, 'REGISTER', 1, 0)),
    ('semiuri', '3.1.1.9', 'Semicolon-Separated Parameters in URI User Part',
     'valid', None,
     'parse; Request-URI user part is "user;par=u%40example.net" (no URI params)',
     req('OPTIONS', 'sip:user;par=u%40example.net@example.com',
         'semiuri.0ha0isndaksdj', 8, 'OPTIONS', 1, 0)),
    ('transports', '3.1.1.10', 'Varied and Unknown Transport Types', 'valid', None,
     'parse; accept Via transports UDP, SCTP, TLS, UNKNOWN, TCP',
     req('OPTIONS', 'sip:user@example.com',
         'transports.kijh4akdnaqjkwendsasfdj', 60, 'OPTIONS', 5, 0)),
    ('mpart01', '3.1.1.11', 'Multipart MIME Message', 'valid', None,
     'parse; frame by Content-Length (553); the binary part holds NUL, CR and LF octets',
     req('MESSAGE', 'sip:kumiko@example.org',
         '3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..', 1, 'MESSAGE', 1, 553)),
    ('unreason', '3.1.1.12', 'Unusual Reason Phrase', 'valid', None,
     'parse; 200 response whose Reason-Phrase contains UTF-8 (Russian) text',
     rsp(200, 'unreason.1234ksdfak3j2erwedfsASdf', 35, 'INVITE', 1, 154)),
    ('noreason', '3.1.1.13', 'Empty Reason Phrase', 'valid', None,
     'parse; 100 response with an empty Reason-Phrase ("100" then one SP)',
     rsp(100, 'noreason.asndj203insdf99223ndf', 35, 'INVITE', 1, 0)),

    ('badinv01', '3.1.2.1', 'Extraneous Header Field Separators', 'invalid', 400,
     'respond 400 Bad Request: empty Via/Contact params and values (;;,;,, and ;;;;)', None),
    ('clerr', '3.1.2.2', 'Content Length Larger Than Message', 'invalid', 400,
     'respond 400: Content-Length (9999) larger than the body over UDP; '
     'on a stream transport keep waiting for the rest', None),
    ('ncl', '3.1.2.3', 'Negative Content-Length', 'invalid', 400,
     'respond 400 Bad Request: Content-Length -999 is ill-formed; '
     'on a stream transport close the connection', None),
    ('scalar02', '3.1.2.4', 'Request Scalar Fields with Overlarge Values', 'invalid', 400,
     'respond 400 Bad Request because CSeq exceeds 2**32-1 (Max-Forwards 300 '
     'and the huge expiry values are also out of range)', None),
    ('scalarlg', '3.1.2.5', 'Response Scalar Fields with Overlarge Values', 'invalid', None,
     'drop the response (CSeq, Retry-After and 4-digit warn-code out of range); never answer it', None),
    ('quotbal', '3.1.2.6', 'Unterminated Quoted String in Display Name', 'invalid', 400,
     'respond 400 Bad Request: the To display name quote is never closed', None),
    ('ltgtruri', '3.1.2.7', '<> Enclosing Request-URI', 'invalid', 400,
     'respond 400 Bad Request: Request-URI is enclosed in <>', None),
    ('lwsruri', '3.1.2.8', 'Malformed SIP Request-URI (embedded LWS)', 'invalid', 400,
     'respond 400 Bad Request: LWS inside the Request-URI ("; lr")', None),
    ('lwsstart', '3.1.2.9', 'Multiple SP Separating Request-Line Elements', 'invalid', 400,
     'respond 400 Bad Request: two SP between Request-Line elements', None),
    ('trws', '3.1.2.10', 'SP Characters at End of Request-Line', 'invalid', 400,
     'respond 400 Bad Request: trailing SP after SIP/2.0 on the Request-Line', None),
    ('escruri', '3.1.2.11', 'Escaped Headers in SIP Request-URI', 'invalid', 400,
     'respond 400 Bad Request: headers (?Route=...) are not allowed in a Request-URI '
     '(an element may instead ignore them)', None),
    ('baddate', '3.1.2.12', 'Invalid Time Zone in Date Header Field', 'invalid', 400,
     'may respond 400: Date uses EST instead of GMT (a lenient element '
     'ignores the Date or converts it to GMT)', None),
    ('regbadct', '3.1.2.13', 'Failure to Enclose name-addr URI in <>', 'invalid', 400,
     'respond 400 Bad Request: Contact URI with headers must be in <> '
     '(a lenient element may infer the brackets)', None),
    ('badaspec', '3.1.2.14', 'Spaces within addr-spec', 'invalid', 400,
     'respond 400 Bad Request: spaces inside the <> of the To addr-spec '
     '(must not crash; a lenient element may ignore them)', None),
    ('baddn', '3.1.2.15', 'Non-token Characters in Display Name', 'invalid', 400,
     'respond 400 Bad Request: unquoted display names with "," and "." '
     '(a proxy must not forward the error)', None),
    ('badvers', '3.1.2.16', 'Unknown Protocol Version', 'invalid', 505,
     'respond 505 Version Not Supported (SIP/7.0)', None),
    ('mismatch01', '3.1.2.17', 'Start Line and CSeq Method Mismatch', 'invalid', 400,
     'respond 400 Bad Request: OPTIONS request with CSeq method INVITE', None),
    ('mismatch02', '3.1.2.18', 'Unknown Method with CSeq Method Mismatch', 'invalid', 501,
     'respond 501 Not Implemented (400 also acceptable): unknown method '
     'NEWMETHOD with CSeq method INVITE', None),
    ('bigcode', '3.1.2.19', 'Overlarge Response Code', 'invalid', None,
     'drop the response: status code 4294967301 is larger than 699', None),

    ('badbranch', '3.2.1', 'Missing Transaction Identifier', 'semantic', 400,
     'parse; branch is only the magic cookie "z9hG4bK": respond 400 '
     '(preferably statelessly) or fall back to RFC 2543 transaction matching',
     req('OPTIONS', 'sip:user@example.com',
         'badbranch.sadonfo23i420jv0as0derf3j3n', 8, 'OPTIONS', 1, 0)),
    ('insuf', '3.3.1', 'Missing Required Header Fields', 'semantic', 400,
     'parse without breaking; no To, From or Call-ID: respond 400 Bad Request',
     req('INVITE', 'sip:user@example.com', None, 193942, 'INVITE', 1, 152)),
    ('unkscm', '3.3.2', 'Request-URI with Unknown Scheme', 'semantic', 416,
     'parse; respond 416 Unsupported URI Scheme',
     req('OPTIONS', 'nobodyKnowsThisScheme:totallyopaquecontent',
         'unkscm.nasdfasser0q239nwsdfasdkl34', 3923423, 'OPTIONS', 1, 0)),
    ('novelsc', '3.3.3', 'Request-URI with Known but Atypical Scheme', 'semantic', 416,
     'parse; respond 416 Unsupported URI Scheme if the scheme is never '
     'accepted (404 if some URIs of that scheme could be)',
     req('OPTIONS', 'soap.beep://192.0.2.103:3002',
         'novelsc.asdfasser0q239nwsdfasdkl34', 3923423, 'OPTIONS', 1, 0)),
    ('unksm2', '3.3.4', 'Unknown URI Schemes in Header Fields', 'semantic', 400,
     'parse; a proxy routes it like any request; a registrar responds 400 '
     'because To (the AOR) is not a SIP/SIPS URI',
     req('REGISTER', 'sip:example.com',
         'unksm2.daksdj@hyphenated-host.example.com', 234902, 'REGISTER', 1, 0)),
    ('bext01', '3.3.5', 'Proxy-Require and Require', 'semantic', 420,
     'parse; respond 420 Bad Extension with Unsupported listing the Require '
     '(UAS) or Proxy-Require (proxy) option tags',
     req('OPTIONS', 'sip:user@example.com',
         'bext01.0ha0isndaksdj', 8, 'OPTIONS', 1, 0)),
    ('invut', '3.3.6', 'Unknown Content-Type', 'semantic', 415,
     'parse; a proxy forwards it; a UAS responds 415 Unsupported Media Type',
     req('INVITE', 'sip:user@example.com',
         'invut.0ha0isndaksdjadsfij34n23d', 235448, 'INVITE', 1, 40)),
    ('regaut01', '3.3.7', 'Unknown Authorization Scheme', 'semantic', 401,
     'parse; a proxy forwards Authorization unchanged; a registrar that '
     'authenticates responds 401 with a challenge it understands (one that '
     'does not ignores the header; a non-registrar UAS may send 405)',
     req('REGISTER', 'sip:example.com',
         'regaut01.0ha0isndaksdj', 9338, 'REGISTER', 1, 0)),
    ('multi01', '3.3.8', 'Multiple Values in Single Value Required Fields',
     'semantic', 400,
     'parse without breaking; two Call-ID, CSeq, To, From and Max-Forwards '
     'values: respond 400 Bad Request',
     dict(req('INVITE', 'sip:user@company.com', None, None, None, 1, 154),
          cseq=None,
          callIDs=['multi01.98asdh@192.0.2.1', 'multi01.98asdh@192.0.2.2'],
          cseqs=[{'number': 5, 'method': 'INVITE'},
                 {'number': 59, 'method': 'INVITE'}])),
    ('mcl01', '3.3.9', 'Multiple Content-Length Values', 'invalid', 400,
     'respond 400 over UDP (close the connection over TCP): conflicting '
     'Content-Length values (13 and 5) make the body length unknowable', None),
    ('bcast', '3.3.10', '200 OK Response with Broadcast Via Header Field Value',
     'semantic', None,
     'parse; drop the response: an endpoint discards it and a proxy must not '
     'forward it to the 255.255.255.255 Via',
     rsp(200, 'bcast.0384840201234ksdfak3j2erwedfsASdf', 35, 'INVITE', 2, 154)),
    ('zeromf', '3.3.11', 'Max-Forwards of Zero', 'semantic', 483,
     'parse; a proxy must not forward it and responds 483 Too Many Hops; '
     'an endpoint processes it normally (OPTIONS answered)',
     req('OPTIONS', 'sip:user@example.com',
         'zeromf.jfasdlfnm2o2l43r5u0asdfas', 39234321, 'OPTIONS', 1, 0)),
    ('cparam01', '3.3.12', 'REGISTER with a Contact Header Parameter', 'semantic', 200,
     'parse; registration succeeds; unknownparam is a contact-param (Contact '
     'is addr-spec form), not a URI parameter of the binding',
     req('REGISTER', 'sip:example.com',
         'cparam01.70710@saturn.example.com', 2, 'REGISTER', 1, 0)),
    ('cparam02', '3.3.13', 'REGISTER with a url-parameter', 'semantic', 200,
     'parse; registration succeeds; unknownparam is a URI parameter and must '
     'appear in the binding when fetched',
     req('REGISTER', 'sip:example.com',
         'cparam02.70710@saturn.example.com', 3, 'REGISTER', 1, 0)),
    ('regescrt', '3.3.14', 'REGISTER with a URL Escaped Header', 'semantic', 200,
     'parse; registration succeeds; the escaped Route header stays in the '
     'binding URI when fetched',
     req('REGISTER', 'sip:example.com',
         'regescrt.k345asrl3fdbv@192.0.2.1', 14398234, 'REGISTER', 1, 0)),
    ('sdp01', '3.3.15', 'Unacceptable Accept Offering', 'semantic', 406,
     'parse; Accept excludes application/sdp: respond 406 Not Acceptable '
     '(400 also acceptable)',
     req('INVITE', 'sip:user@example.com',
         'sdp01.ndaksdj9342dasdd', 8, 'INVITE', 1, 150)),
    ('inv2543', '3.4.1', 'INVITE with RFC 2543 Syntax', 'semantic', None,
     'parse and accept for RFC 2543 compatibility: no branch, no From tag, '
     'no Max-Forwards, no Content-Length (body = rest of the datagram)',
     req('INVITE', 'sip:UserB@example.com',
         'inv2543.1717@ift.client.example.com', 56, 'INVITE', 1, None)),
]

# SHA-256 of the archive members (RFC 4475 Appendix A) for the 3.1.1
# messages, as published by an independent decode; used as a self-check.
ARCHIVE_SHA256 = {
    'wsinv': 'd6f6cdee99cd0a1f8e3d9a0fdd67c877700e19ab86d8186dada06f61260e3e61',
    'intmeth': 'b957a8292c1c0a9851fe94705b90f94320738f43aacde64998e401f742ef688d',
    'esc01': 'be3a316d4ce5f69cad474646191e390dd4b50fc8371e44b5197fe1237781973e',
    'escnull': '263fe2ecd12a5ccbb6c67b3174e9211d11da9b600e7d69666a86d2ee42873e90',
    'esc02': '9a9c59449f00327b02071feafc8e5c2a261c98c818044167894cc17809a12199',
    'lwsdisp': 'd1b36b6316c12824f6f04bf6b1fd1f021cade9b74871693b9c3474cd9fa7f4e6',
    'longreq': '185739292bc676760e5b1cca77c87705aa570240171c506ad76f8c35af0ecdaa',
    'dblreq': 'a6be48426565c2a705389c4ce2ea17e57b891cb13f80490a2cb9392c797b46ef',
    'semiuri': '87bbaed6b4b354dbd3c5c7a20e66686303c63e43a0aa19b89de1ac75231611a2',
    'transports': '33b4553a3b9418121b099ff07882535151edd6a1e81898c63a916aad2cbf90bc',
    'mpart01': '92147c8e24997bac59629e1b163767697d0d6d499af87f89e325d69968bec3ba',
    'unreason': '4f939d6ebf4817eea70f011d3209e83732872ffc20ffd304b244084dc392f4d7',
    'noreason': '07e11e470a69fffa3674de805e5165d1351a9439a91045ee70c9570ea24ab4fe',
}

# --------------------------------------------------------------------------
# Minimal cross-check parser (independent of the hand-entered values)
# --------------------------------------------------------------------------

COMPACT = {'v': 'via', 'i': 'call-id', 'l': 'content-length'}


def mini_parse(data):
    head, sep, rest = data.partition(b'\r\n\r\n')
    assert sep, 'no end of header section'
    lines = head.split(b'\r\n')
    start = lines[0].decode('latin-1')
    fields = []
    for line in lines[1:]:
        if line[:1] in (b' ', b'\t'):
            fields[-1] = fields[-1] + b' ' + line.strip()
        else:
            fields.append(line)
    hdrs = []
    for f in fields:
        name, _, value = f.partition(b':')
        name = name.strip().decode('latin-1').lower()
        hdrs.append((COMPACT.get(name, name), value.strip().decode('latin-1')))
    return start, hdrs, rest


def check_fields(name, data, fields):
    start, hdrs, rest = mini_parse(data)
    get = lambda n: [v for k, v in hdrs if k == n]
    if fields['isRequest']:
        method, ruri, version = start.split(' ')
        assert method == fields['method'], (name, method)
        assert ruri == fields['requestURI'], (name, ruri)
        assert version == 'SIP/2.0'
    else:
        version, code, _ = start.split(' ', 2)
        assert int(code) == fields['status'], name
    ids = get('call-id')
    if 'callIDs' in fields:
        assert ids == fields['callIDs'], name
    else:
        assert ids == ([fields['callID']] if fields['callID'] else []), (name, ids)
    cseqs = [dict(number=int(v.split()[0]), method=v.split()[1]) for v in get('cseq')]
    if 'cseqs' in fields:
        assert cseqs == fields['cseqs'], name
    else:
        assert cseqs == [fields['cseq']], (name, cseqs)
    vias = sum(len(v.split(',')) for v in get('via'))
    assert vias == fields['vias'], (name, vias)
    cls = get('content-length')
    assert cls == ([str(fields['contentLength'])] if fields['contentLength'] is not None else []), (name, cls)


def main():
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)) == len(MESSAGES) == 49
    assert set(names) == set(MESSAGES)
    expected = []
    bad_sha = []
    for name, section, title, kind, response, expect, fields in CASES:
        data = expand(MESSAGES[name])
        with open(os.path.join(HERE, name + '.sip'), 'wb') as fh:
            fh.write(data)
        if name in ARCHIVE_SHA256 and hashlib.sha256(data).hexdigest() != ARCHIVE_SHA256[name]:
            bad_sha.append(name)
        entry = {'name': name, 'section': section, 'title': title, 'kind': kind}
        if fields is not None:
            assert kind in ('valid', 'semantic')
            check_fields(name, data, fields)
            body = data.partition(b'\r\n\r\n')[2]
            entry.update(fields)
            if name == 'dblreq':
                entry['bodyBytes'] = 0
                entry['trailingBytes'] = len(body)
            else:
                entry['bodyBytes'] = len(body)
        else:
            assert kind == 'invalid'
        entry['expect'] = expect
        entry['response'] = response
        expected.append(entry)
    with open(os.path.join(HERE, 'expected.json'), 'w', encoding='utf-8') as fh:
        json.dump(expected, fh, indent=2, ensure_ascii=False)
        fh.write('\n')
    if bad_sha:
        print('SHA-256 mismatch against the RFC archive:', ', '.join(bad_sha))
        return 1
    print('wrote %d messages + expected.json; %d archive hashes match'
          % (len(expected), len(ARCHIVE_SHA256)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
