"""Sports results as wire services file them (written for these tests): lists of names,
clubs and scores with few running words, the texts a language classifier misreads."""

from __future__ import annotations

# Each of these English texts the classifier alone reads as another language.
RESULTS = {
    "league table": """Soccer - Finnish league results
HELSINKI, May 4
Results of Veikkausliiga matches played on Saturday:
HJK Helsinki 2 Inter Turku 1
KuPS Kuopio 0 Ilves Tampere 0
SJK Seinajoki 3 Lahti 1
Haka Valkeakoski 1 Mariehamn 2
Standings: HJK 10 7 2 1 19 6 23, KuPS 10 6 3 1 15 7 21, Ilves 10 5 3 2 12 9 18""",
    "athletics": """Athletics - Women's 100 metres results
ZURICH, Aug 14
Results of the women's 100 metres at the Weltklasse meeting on Wednesday:
1. Adaeze Okonkwo (Nigeria) 10.94 seconds
2. Chiamaka Eze (Nigeria) 11.02
3. Tatiana Volkova (Russia) 11.05
4. Oyelaran Adebayo (Nigeria) 11.12
5. Merlene Ottey (Jamaica) 11.18""",
    "squad": """Cricket - Sri Lanka squad
COLOMBO, March 2
Sri Lanka named the following squad on Monday:
Arjuna Ranatunga (captain), Aravinda de Silva, Sanath Jayasuriya, Romesh Kaluwitharana,
Hashan Tillekeratne, Roshan Mahanama, Kumar Dharmasena, Chaminda Vaas, Muthiah Muralitharan,
Upul Chandana, Ravindra Pushpakumara.""",
    "scores": """Soccer - Serbian league results
BELGRADE, Aug 31
Results of Serbian league matches played on Saturday:
Partizan 3 Vojvodina 1
Crvena Zvezda 2 Radnicki Nis 0
Cukaricki 1 Spartak Subotica 1
Napredak Krusevac 0 Mladost Lucani 2
Javor Ivanjica 1 Zeleznicar Pancevo 1""",
}

# Clubs named after their cities, in a results list and a table: teams, not places.
CITY_CLUBS = """Baseball - Major league results
NEW YORK, June 2
Results of games played on Sunday:
Atlanta 6 Seattle 2
Chicago 3 Detroit 4
Boston 1 Baltimore 0
Standings:
Atlanta 35 21 .625 -
Detroit 30 26 .536 5
Seattle 27 29 .482 8"""
