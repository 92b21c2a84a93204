/**
 * Name pools of the synthetic population: a few hundred given and family names from the many
 * origins a hospital's register holds, with accents, apostrophes, hyphens and particles, so that
 * folding (case, accents) and tokenizing are exercised as they are in production.
 */

// prettier-ignore
export const FEMALE_GIVEN: readonly string[] = [
  'Mary', 'Patricia', 'Jennifer', 'Linda', 'Elizabeth', 'Barbara', 'Susan', 'Jessica', 'Sarah', 'Karen',
  'Lisa', 'Nancy', 'Betty', 'Margaret', 'Sandra', 'Ashley', 'Kimberly', 'Emily', 'Donna', 'Michelle',
  'Carol', 'Amanda', 'Dorothy', 'Melissa', 'Deborah', 'Stephanie', 'Rebecca', 'Sharon', 'Laura', 'Cynthia',
  'Kathleen', 'Amy', 'Angela', 'Shirley', 'Anna', 'Brenda', 'Pamela', 'Emma', 'Nicole', 'Helen',
  'Samantha', 'Katherine', 'Christine', 'Debra', 'Rachel', 'Carolyn', 'Janet', 'Catherine', 'Maria', 'Heather',
  'Diane', 'Ruth', 'Julie', 'Olivia', 'Joyce', 'Virginia', 'Victoria', 'Kelly', 'Lauren', 'Christina',
  'Joan', 'Evelyn', 'Judith', 'Megan', 'Andrea', 'Cheryl', 'Hannah', 'Jacqueline', 'Martha', 'Gloria',
  'Teresa', 'Ann', 'Sara', 'Madison', 'Frances', 'Kathryn', 'Janice', 'Jean', 'Abigail', 'Alice',
  'Judy', 'Sophia', 'Grace', 'Denise', 'Amber', 'Doris', 'Marilyn', 'Danielle', 'Beverly', 'Isabella',
  'Theresa', 'Diana', 'Natalie', 'Brittany', 'Charlotte', 'Marie', 'Kayla', 'Alexis', 'Lori', 'Zoë',
  'Chloé', 'Renée', 'Inés', 'Sofía', 'Lucía', 'María', 'Guadalupe', 'Ximena', 'Valentina', 'Camila',
  'Léa', 'Amélie', 'Anaïs', 'Hélène', 'Céline', 'Élodie', 'Françoise', 'Agnès', 'Maëlle', 'Noémie',
  'Małgorzata', 'Agnieszka', 'Katarzyna', 'Zofia', 'Ágnes', 'Éva', 'Zsófia', 'Dagmar', 'Jitka', 'Tereza',
  'Björk', 'Sigríður', 'Ingrid', 'Astrid', 'Signe', 'Åsa', 'Birgitta', 'Märta', 'Jutta', 'Gülşen',
  'Ayşe', 'Elif', 'Zeynep', 'Fatma', 'Aïcha', 'Fatima', 'Leïla', 'Yasmin', 'Priya', 'Ananya',
  'Mei', 'Xiu', 'Yuki', 'Haruka', 'Ji-woo', 'Seo-yeon', 'Thảo', 'Linh', 'Ngọc', 'Chiamaka',
  'Ngozi', 'Amara', 'Wanjiru', 'Siobhán', 'Aoife', 'Niamh', 'Saoirse', 'Róisín', 'Eilís', 'Mairéad',
];

// prettier-ignore
export const MALE_GIVEN: readonly string[] = [
  'James', 'Robert', 'John', 'Michael', 'David', 'William', 'Richard', 'Joseph', 'Thomas', 'Christopher',
  'Charles', 'Daniel', 'Matthew', 'Anthony', 'Mark', 'Donald', 'Steven', 'Andrew', 'Paul', 'Joshua',
  'Kenneth', 'Kevin', 'Brian', 'George', 'Timothy', 'Ronald', 'Jason', 'Edward', 'Jeffrey', 'Ryan',
  'Jacob', 'Gary', 'Nicholas', 'Eric', 'Jonathan', 'Stephen', 'Larry', 'Justin', 'Scott', 'Brandon',
  'Benjamin', 'Samuel', 'Gregory', 'Alexander', 'Patrick', 'Frank', 'Raymond', 'Jack', 'Dennis', 'Jerry',
  'Tyler', 'Aaron', 'Henry', 'Adam', 'Douglas', 'Nathan', 'Peter', 'Zachary', 'Kyle', 'Walter',
  'Harold', 'Jeremy', 'Ethan', 'Carl', 'Keith', 'Roger', 'Gerald', 'Christian', 'Terry', 'Sean',
  'Arthur', 'Austin', 'Noah', 'Lawrence', 'Jesse', 'Joe', 'Bryan', 'Billy', 'Jordan', 'Albert',
  'Dylan', 'Bruce', 'Willie', 'Gabriel', 'Alan', 'Juan', 'Logan', 'Wayne', 'Ralph', 'Roy',
  'Eugene', 'Randy', 'Vincent', 'Russell', 'Louis', 'Philip', 'Bobby', 'Johnny', 'Bradley', 'Liam',
  'José', 'Andrés', 'Jesús', 'Ramón', 'Joaquín', 'Martín', 'Sebastián', 'Tomás', 'Nicolás', 'Óscar',
  'François', 'Raphaël', 'Gaël', 'Noël', 'Jérôme', 'Stéphane', 'Frédéric', 'Benoît', 'Loïc', 'Thibaut',
  'Łukasz', 'Wojciech', 'Paweł', 'Grzegorz', 'Zoltán', 'Mátyás', 'László', 'Tamás', 'Jiří', 'Tomáš',
  'Björn', 'Søren', 'Jørgen', 'Håkan', 'Göran', 'Jürgen', 'Jörg', 'Günther', 'Ömer', 'Çağan',
  'Mehmet', 'Mustafa', 'Ahmed', 'Mohammed', 'Youssef', 'Karim', 'Rajesh', 'Arjun', 'Vikram', 'Wei',
  'Jian', 'Hiroshi', 'Takeshi', 'Min-jun', 'Seo-jun', 'Minh', 'Quốc', 'Chukwuemeka', 'Oluwaseun', 'Kwame',
  'João', 'Sebastião', 'Gonçalo', 'Séan', 'Ciarán', 'Pádraig', 'Eoin', 'Dónal', 'Cathal', 'Tadhg',
];

// prettier-ignore
export const FAMILY: readonly string[] = [
  'Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez',
  'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin',
  'Lee', 'Perez', 'Thompson', 'White', 'Harris', 'Sanchez', 'Clark', 'Ramirez', 'Lewis', 'Robinson',
  'Walker', 'Young', 'Allen', 'King', 'Wright', 'Scott', 'Torres', 'Nguyen', 'Hill', 'Flores',
  'Green', 'Adams', 'Nelson', 'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts',
  'Gomez', 'Phillips', 'Evans', 'Turner', 'Diaz', 'Parker', 'Cruz', 'Edwards', 'Collins', 'Reyes',
  'Stewart', 'Morris', 'Morales', 'Murphy', 'Cook', 'Rogers', 'Gutierrez', 'Ortiz', 'Morgan', 'Cooper',
  'Peterson', 'Bailey', 'Reed', 'Kelly', 'Howard', 'Ramos', 'Kim', 'Cox', 'Ward', 'Richardson',
  'Watson', 'Brooks', 'Chavez', 'Wood', 'James', 'Bennett', 'Gray', 'Mendoza', 'Ruiz', 'Hughes',
  'Price', 'Alvarez', 'Castillo', 'Sanders', 'Patel', 'Myers', 'Long', 'Ross', 'Foster', 'Jimenez',
  'Powell', 'Jenkins', 'Perry', 'Russell', 'Sullivan', 'Bell', 'Coleman', 'Butler', 'Henderson', 'Barnes',
  'Gonzales', 'Fisher', 'Vasquez', 'Simmons', 'Romero', 'Jordan', 'Patterson', 'Alexander', 'Hamilton', 'Graham',
  'Reynolds', 'Griffin', 'Wallace', 'Moreno', 'West', 'Cole', 'Hayes', 'Bryant', 'Herrera', 'Gibson',
  'Ellis', 'Tran', 'Medina', 'Aguilar', 'Stevens', 'Murray', 'Ford', 'Castro', 'Marshall', 'Owens',
  'Harrison', 'Fernandez', 'McDonald', 'Woods', 'Washington', 'Kennedy', 'Wells', 'Vargas', 'Henry', 'Chen',
  'Freeman', 'Webb', 'Tucker', 'Guzman', 'Burns', 'Crawford', 'Olson', 'Simpson', 'Porter', 'Hunter',
  'Gordon', 'Mendez', 'Silva', 'Shaw', 'Snyder', 'Mason', 'Dixon', 'Muñoz', 'Hunt', 'Hicks',
  'Holmes', 'Palmer', 'Wagner', 'Black', 'Robertson', 'Boyd', 'Rose', 'Stone', 'Salazar', 'Fox',
  'Núñez', 'Peña', 'Ibáñez', 'Sáez', 'Márquez', 'Domínguez', 'Vázquez', 'Gómez', 'Rodríguez', 'Hernández',
  'Martínez', 'González', 'Pérez', 'Sánchez', 'Ramírez', 'Díaz', 'Jiménez', 'Álvarez', 'Fernández', 'López',
  'Gonçalves', 'Conceição', 'Magalhães', 'Simões', 'Araújo', 'Brandão', 'Falcão', 'Guimarães', 'Assunção', 'Leão',
  'Müller', 'Schäfer', 'Köhler', 'Groß', 'Jäger', 'Böhm', 'Krüger', 'Schröder', 'Weiß', 'Möller',
  'Dubois', 'Lefèvre', 'Girard', 'Bonnet', 'Mercier', 'Faure', 'Lemaître', 'Bérubé', 'Côté', 'Gagné',
  'Kowalski', 'Wiśniewski', 'Wójcik', 'Kamiński', 'Lewandowski', 'Zieliński', 'Szymański', 'Woźniak', 'Dąbrowski', 'Kozłowski',
  'Nagy', 'Kovács', 'Tóth', 'Szabó', 'Horváth', 'Varga', 'Dvořák', 'Novák', 'Černý', 'Procházka',
  'Kovačević', 'Petrović', 'Jovanović', 'Nikolić', 'Marković', 'Öztürk', 'Yılmaz', 'Çelik', 'Şahin', 'Doğan',
  'Andersson', 'Johansson', 'Karlsson', 'Nilsson', 'Jørgensen', 'Sørensen', 'Ólafsson', 'Jónsdóttir', 'Håkansson', 'Lindqvist',
  "O'Brien", "O'Connor", "O'Neill", "O'Sullivan", "D'Angelo", "D'Souza", 'McCarthy', 'MacLeod', 'Fitzgerald', 'Ní Bhriain',
  'van der Berg', 'de Vries', 'van Dijk', 'de Jong', 'Janssen', 'de la Cruz', 'Del Rosario', 'Smith-Jones', 'Lloyd-Evans', 'Ben-David',
  'Wang', 'Li', 'Zhang', 'Liu', 'Yang', 'Huang', 'Zhao', 'Wu', 'Zhou', 'Xu',
  'Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Park', 'Choi', 'Jung', 'Kang', 'Yoon',
  'Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Sharma', 'Singh', 'Kumar', 'Gupta', 'Reddy',
  'Okafor', 'Adeyemi', 'Okonkwo', 'Mensah', 'Boateng', 'Kariuki', 'Mwangi', 'Haddad', 'Khoury', 'Mansour',
];
